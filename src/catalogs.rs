//! The translation catalogs of the installed Mailman
//! (`<mailman_dir>/messages/<lang>/LC_MESSAGES/mailman.mo`), read from disk
//! on first use and kept: the gate's [`Translations`] for the decision.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::i18n::{Catalog, Translation, Translations};

/// The catalogs of a Mailman installation, read on first use.
#[derive(Debug)]
pub struct Catalogs {
    messages: PathBuf,
    loaded: Mutex<HashMap<String, Translation>>,
}

impl Catalogs {
    /// The catalogs under `<mailman_dir>/messages`.
    pub fn new(mailman_dir: &Path) -> Catalogs {
        Catalogs {
            messages: mailman_dir.join("messages"),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The translation for `lang`, as `gettext.translation('mailman',
    /// MESSAGES_DIR, [lang])` finds it (`pt_BR`, then `pt`).
    pub fn get(&self, lang: &str) -> Translation {
        if let Some(t) = self.loaded.lock().get(lang) {
            return t.clone();
        }
        let t = self.load(lang);
        let mut loaded = self.loaded.lock();
        if loaded.len() < 256 {
            loaded.insert(lang.to_owned(), t.clone());
        }
        t
    }

    fn load(&self, lang: &str) -> Translation {
        if !self.messages.is_dir() {
            let dir = self.messages.parent().unwrap_or(&self.messages);
            return Translation::Missing(dir.display().to_string());
        }
        let mut candidates = vec![lang];
        if let Some((base, _)) = lang.split_once('_') {
            candidates.push(base);
        }
        for l in candidates {
            if l.is_empty() || l.contains('/') || l.starts_with('.') {
                continue;
            }
            let path = self.messages.join(l).join("LC_MESSAGES").join("mailman.mo");
            match std::fs::read(&path) {
                Ok(mo) => {
                    return match Catalog::parse(&mo) {
                        Ok(c) => Translation::Catalog(Arc::new(c)),
                        Err(e) => Translation::Broken(format!("{}: {e}", path.display())),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Translation::Broken(format!("{}: {e}", path.display())),
            }
        }
        Translation::English
    }
}

impl Translations for Catalogs {
    fn translation(&self, lang: &str) -> Translation {
        self.get(lang)
    }
}
