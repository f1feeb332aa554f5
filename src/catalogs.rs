//! The translation catalogs of the installed Mailman
//! (`<mailman_dir>/messages/<lang>/LC_MESSAGES/mailman.mo`), read from disk
//! on first use and kept: the gate's [`Translations`] for the decision.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use crate::i18n::{Catalog, Translation, Translations};

/// Most languages kept (Mailman 2.1 ships about 40); another is read
/// each time it is asked for.
const MAX_LANGUAGES: usize = 64;

/// The catalogs of a Mailman installation, read on first use.
#[derive(Debug)]
pub struct Catalogs {
    messages: PathBuf,
    /// The languages read so far, in the order they were: each slot is set
    /// once (under `adding`) and read without a lock, so that a lookup
    /// writes nothing (a process forked from a warm daemon copies no page
    /// for it).
    loaded: Box<[OnceLock<(String, Translation)>]>,
    adding: Mutex<()>,
}

impl Catalogs {
    /// The catalogs under `<mailman_dir>/messages`.
    pub fn new(mailman_dir: &Path) -> Catalogs {
        Catalogs {
            messages: mailman_dir.join("messages"),
            loaded: (0..MAX_LANGUAGES).map(|_| OnceLock::new()).collect(),
            adding: Mutex::new(()),
        }
    }

    /// The translation for `lang`, as `gettext.translation('mailman',
    /// MESSAGES_DIR, [lang])` finds it (`pt_BR`, then `pt`).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    pub fn get(&self, lang: &str) -> Translation {
        if let Some(t) = self.kept(lang) {
            return t.clone();
        }
        let t = self.load(lang);
        let _adding = self.adding.lock();
        // Another thread may have kept it meanwhile.
        if let Some(kept) = self.kept(lang) {
            return kept.clone();
        }
        if let Some(free) = self.loaded.iter().find(|s| s.get().is_none()) {
            let _ = free.set((lang.to_owned(), t.clone()));
        }
        t
    }

    /// The translation kept for `lang`, if any (slots fill in order).
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    fn kept(&self, lang: &str) -> Option<&Translation> {
        self.loaded
            .iter()
            .map_while(OnceLock::get)
            .find(|(l, _)| l == lang)
            .map(|(_, t)| t)
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
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    fn translation(&self, lang: &str) -> Translation {
        self.get(lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_kept_in_order_up_to_the_limit() {
        let dir = std::env::temp_dir().join(format!("mg-catalogs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("messages")).unwrap();
        let c = Catalogs::new(&dir);
        assert!(matches!(c.get("fr"), Translation::English));
        assert!(matches!(c.kept("fr"), Some(Translation::English)));
        assert!(c.kept("de").is_none());
        for i in 0..MAX_LANGUAGES + 5 {
            assert!(matches!(c.get(&format!("x{i}")), Translation::English));
        }
        // Full: the first ones are kept, the last ones read each time.
        assert!(c.kept("x0").is_some());
        assert!(c.kept(&format!("x{}", MAX_LANGUAGES + 4)).is_none());
        assert!(matches!(c.get("fr"), Translation::English));
        std::fs::remove_dir_all(&dir).unwrap();
        // Without the catalogs every language is missing.
        let gone = Catalogs::new(&dir);
        assert!(matches!(gone.get("fr"), Translation::Missing(_)));
    }
}
