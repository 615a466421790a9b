//! Datasets laid out as one folder per class (`DIR/<class>/<file>`): what the audio and the
//! image folder readers share.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, invalid, io};

/// The entries of `dir` that `keep` accepts, hidden ones (`.name`) excepted, sorted.
fn visible_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let path = entry.map_err(|e| io(dir, e))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden && keep(&path) {
            entries.push(path);
        }
    }
    entries.sort();
    Ok(entries)
}

/// The class names by id, and every file with its class id.
pub(crate) type ClassFiles = (Vec<String>, Vec<(usize, PathBuf)>);

/// The class folders of `dir` (sorted by name) and, in each, the files with one of
/// `extensions` (case-insensitive, sorted); hidden entries and other files are skipped.
/// With `classes`, the folders must be among them and take their ids (a test folder read
/// with the training folder's classes); otherwise the folders found are the classes.
///
/// # Errors
/// [`Error::Io`] for an unreadable folder; [`Error::Empty`] for no class folder or a class
/// folder without such files; [`Error::InvalidArgument`] for a folder outside `classes`.
pub(crate) fn class_files(
    dir: &Path,
    extensions: &[&str],
    classes: Option<&[String]>,
) -> Result<ClassFiles> {
    let folders = visible_entries(dir, Path::is_dir)?;
    if folders.is_empty() {
        return Err(Error::Empty {
            what: dir.display().to_string(),
            reason: format!(
                "no class folders (expected DIR/<class>/*.{})",
                extensions[0]
            ),
        });
    }
    let names: Vec<String> = folders
        .iter()
        .map(|f| {
            f.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let classes = classes.map_or_else(|| names.clone(), <[String]>::to_vec);
    let mut files = Vec::new();
    for (folder, name) in folders.iter().zip(&names) {
        let Some(label) = classes.iter().position(|c| c == name) else {
            let expected = format!("one of the training classes {classes:?}");
            return Err(invalid("class folder", "name", &expected, name));
        };
        let found = visible_entries(folder, |p| {
            p.is_file()
                && p.extension().is_some_and(|e| {
                    extensions
                        .iter()
                        .any(|x| e.to_string_lossy().eq_ignore_ascii_case(x))
                })
        })?;
        if found.is_empty() {
            return Err(Error::Empty {
                what: folder.display().to_string(),
                reason: format!("no {} files in this class folder", extensions.join("/")),
            });
        }
        files.extend(found.into_iter().map(|f| (label, f)));
    }
    Ok((classes, files))
}
