//! Backroom's files hold secrets and customers' data (the SQLite database, the master
//! key, the mail outbox): the folders it creates are readable by their owner only (0700),
//! and so are the files (0600).

use std::{fs, io, path::Path};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// Creates `dir` and any missing parents, each for the owner only.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)
}

/// Options that create a new file for the owner only (failing if it exists).
pub fn new_file() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options
}

/// Writes a new file whole or not at all: under a temporary name first, renamed when
/// complete.
pub fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    use io::Write;
    create_dir(dir)?;
    let partial = dir.join(format!(".{name}.partial"));
    let mut file = new_file().open(&partial).or_else(|e| {
        // A partial file a crash left behind is replaced.
        if e.kind() == io::ErrorKind::AlreadyExists {
            fs::remove_file(&partial)?;
            new_file().open(&partial)
        } else {
            Err(e)
        }
    })?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&partial, dir.join(name))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn folders_and_files_are_the_owners_alone() {
        let root = std::env::temp_dir().join(format!("backroom-private-{}", uuid::Uuid::new_v4()));
        let outbox = root.join("data").join("outbox");
        write_new(&outbox, "1.eml", b"Subject: hi\r\n\r\nhello").unwrap();
        write_new(&outbox, "1.eml", b"again").unwrap_or_else(|e| panic!("a file is replaced whole: {e}"));
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.join("data")), 0o700);
        assert_eq!(mode(&outbox), 0o700);
        assert_eq!(mode(&outbox.join("1.eml")), 0o600);
        assert_eq!(fs::read(outbox.join("1.eml")).unwrap(), b"again");
        fs::remove_dir_all(root).unwrap();
    }
}
