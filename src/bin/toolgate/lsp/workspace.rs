//! The open documents and the policies they belong to.
//!
//! A `.policy` file on disk belongs to its directory's policy: every `.policy` file
//! directly in that directory, read together as `toolgate check DIR` reads them (sorted
//! by file name), with the text of open documents in place of what is on disk. Any other
//! document (another extension, an unsaved buffer) is a policy of its own.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_types::Url;
use toolgate::unstable::parse;
use toolgate::unstable::symbols::SymbolIndex;
use toolgate::{Diagnostic, LoadOptions, PolicyError, Sources};

use super::text::Text;

/// Which policy a document belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Group {
    /// The `.policy` files of a directory.
    Directory(PathBuf),
    /// One document alone.
    Alone(Url),
}

/// One file of an analysed policy.
#[derive(Debug)]
pub struct File {
    /// Where it is.
    pub uri: Url,
    /// Its text as analysed.
    pub text: Text,
}

/// A policy read, parsed and checked: its files (indexed by the library's `SourceId`),
/// every diagnostic and every name.
#[derive(Debug)]
pub struct Analysis {
    /// The files, in policy order: file `i` is source `i`.
    pub files: Vec<File>,
    /// The same files as the library holds them.
    pub sources: Sources,
    /// What `toolgate check` reports for the policy.
    pub diagnostics: Vec<Diagnostic>,
    /// The names and where they are written.
    pub symbols: SymbolIndex,
}

impl Analysis {
    /// Reads, parses and checks the files of a policy.
    fn new(files: Vec<File>) -> Analysis {
        let mut sources = Sources::new();
        for file in &files {
            let name = file
                .uri
                .to_file_path()
                .map_or_else(|()| file.uri.to_string(), |path| path.display().to_string());
            sources.add(name, file.text.as_str());
        }
        let options = LoadOptions::default();
        let parsed = parse::parse_with(&sources, &options.limits);
        let symbols = SymbolIndex::new(&parsed.policy);
        let diagnostics = match options.load_sources(sources.clone()) {
            Ok(policy) => policy.warnings().to_vec(),
            Err(PolicyError::Invalid { diagnostics, .. }) => diagnostics,
            Err(PolicyError::Read(_)) => Vec::new(),
        };
        Analysis {
            files,
            sources,
            diagnostics,
            symbols,
        }
    }

    /// The index (the library's source id) of the file at `uri`.
    pub fn file(&self, uri: &Url) -> Option<(usize, &File)> {
        self.files
            .iter()
            .enumerate()
            .find(|(_, file)| &file.uri == uri)
    }
}

/// The open documents, and the latest analysis of each group that has one open.
#[derive(Debug, Default)]
pub struct Workspace {
    documents: HashMap<Url, Text>,
    analyses: HashMap<Group, Analysis>,
}

impl Workspace {
    /// The text of an open document.
    pub fn document(&self, uri: &Url) -> Option<&Text> {
        self.documents.get(uri)
    }

    /// Opens (or reopens) a document.
    pub fn open(&mut self, uri: Url, text: String) {
        self.documents.insert(uri, Text::new(text));
    }

    /// The text of an open document, to change; `None` when it is not open.
    pub fn document_mut(&mut self, uri: &Url) -> Option<&mut Text> {
        self.documents.get_mut(uri)
    }

    /// Closes a document; whether it was open.
    pub fn close(&mut self, uri: &Url) -> bool {
        self.documents.remove(uri).is_some()
    }

    /// Whether any open document belongs to `group`.
    pub fn has_open(&self, group: &Group) -> bool {
        self.documents.keys().any(|uri| &group_of(uri) == group)
    }

    /// Analyses `group` again from the open documents and the disk, and keeps the result.
    pub fn analyse(&mut self, group: &Group) -> &Analysis {
        let analysis = Analysis::new(self.files(group));
        match self.analyses.entry(group.clone()) {
            Entry::Occupied(mut kept) => {
                kept.insert(analysis);
                kept.into_mut()
            }
            Entry::Vacant(slot) => slot.insert(analysis),
        }
    }

    /// Forgets a group's analysis; the files it had.
    pub fn forget(&mut self, group: &Group) -> Vec<Url> {
        self.analyses
            .remove(group)
            .map(|analysis| analysis.files.into_iter().map(|file| file.uri).collect())
            .unwrap_or_default()
    }

    /// The files of the latest analysis of `group`, if any.
    pub fn analysed_files(&self, group: &Group) -> Vec<Url> {
        self.analyses
            .get(group)
            .map(|analysis| analysis.files.iter().map(|file| file.uri.clone()).collect())
            .unwrap_or_default()
    }

    /// The analysis of the policy `uri` belongs to: the kept one, else a new one (for a
    /// document that is not open, read from disk).
    pub fn analysis_for(&mut self, uri: &Url) -> Option<&Analysis> {
        let group = group_of(uri);
        if !self.analyses.contains_key(&group) {
            let files = self.files(&group);
            if !files.iter().any(|file| &file.uri == uri) {
                return None;
            }
            self.analyses.insert(group.clone(), Analysis::new(files));
        }
        self.analyses.get(&group)
    }

    /// The files of a group with their current text: open documents as they are in the
    /// editor, the others as on disk (unreadable or non-UTF-8 files are left out).
    fn files(&self, group: &Group) -> Vec<File> {
        match group {
            Group::Alone(uri) => self
                .documents
                .get(uri)
                .cloned()
                .or_else(|| read(uri))
                .map(|text| File {
                    uri: uri.clone(),
                    text,
                })
                .into_iter()
                .collect(),
            Group::Directory(directory) => {
                let mut paths = policy_files(directory);
                for uri in self.documents.keys() {
                    if &group_of(uri) == group {
                        if let Ok(path) = uri.to_file_path() {
                            if !paths.contains(&path) {
                                paths.push(path);
                            }
                        }
                    }
                }
                paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
                paths
                    .into_iter()
                    .filter_map(|path| {
                        let uri = Url::from_file_path(&path).ok()?;
                        let text = self.documents.get(&uri).cloned().or_else(|| read(&uri))?;
                        Some(File { uri, text })
                    })
                    .collect()
            }
        }
    }
}

/// The policy a document belongs to.
pub fn group_of(uri: &Url) -> Group {
    if let Ok(path) = uri.to_file_path() {
        let is_policy = path.extension().is_some_and(|e| e == "policy");
        if let (true, Some(directory)) = (is_policy, path.parent()) {
            if directory.is_dir() {
                return Group::Directory(directory.to_path_buf());
            }
        }
    }
    Group::Alone(uri.clone())
}

/// The `.policy` files directly in `directory` (none when it cannot be read).
fn policy_files(directory: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "policy") && path.is_file())
        .collect()
}

/// A file's text from disk.
fn read(uri: &Url) -> Option<Text> {
    let path = uri.to_file_path().ok()?;
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    Some(Text::new(text))
}
