//! Snapshots on by default: the stock lists directory gets the default
//! snapshot directory; a configuration or command line that points the
//! lists elsewhere does not share it; `snapshot_dir = none` turns it off.

use std::path::Path;

use mailman_gate::site::{Site, DEFAULT_SNAPSHOT_DIR};

fn snapshots(text: &str) -> Option<String> {
    let site = Site::parse(text, "test").unwrap();
    site.store().snapshot_dir().map(|p| p.display().to_string())
}

#[test]
fn the_stock_lists_directory_has_snapshots_by_default() {
    let default = Some(DEFAULT_SNAPSHOT_DIR.to_owned());
    assert_eq!(snapshots(""), default);
    assert_eq!(snapshots("lists_dir = /var/lib/mailman/lists\n"), default);
    assert_eq!(
        snapshots("snapshot_dir = /srv/snap\n"),
        Some("/srv/snap".into())
    );
    assert_eq!(snapshots("snapshot_dir = none\n"), None);
    // Elsewhere: only when asked for.
    assert_eq!(snapshots("lists_dir = /tmp/lists\n"), None);
    assert_eq!(
        snapshots("lists_dir = /tmp/lists\nsnapshot_dir = /tmp/snap\n"),
        Some("/tmp/snap".into())
    );
    // cPanel's default lists directory counts as stock too.
    assert_eq!(snapshots("layout = cpanel\n"), default);
}

#[test]
fn a_lists_directory_changed_after_parsing_drops_the_default() {
    let mut site = Site::parse("", "test").unwrap();
    site.lists.lists_dir = Path::new("/tmp/elsewhere").to_path_buf();
    assert_eq!(site.store().snapshot_dir(), None);
    // A missing default configuration file means the same defaults.
    let loaded = Site::load(None);
    if let Ok(s) = loaded {
        if !Path::new(mailman_gate::site::DEFAULT_CONFIG_PATH).exists() {
            assert_eq!(
                s.store().snapshot_dir(),
                Some(Path::new(DEFAULT_SNAPSHOT_DIR))
            );
        }
    }
}
