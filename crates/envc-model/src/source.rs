//! Source files and byte spans, with line and column lookup.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from a byte range.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The span as a range, for slicing.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Span::new(r.start, r.end)
    }
}

/// Where a value came from: a file and a span in it. Files without text (synthesised values)
/// have an empty span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The file.
    pub file: FileId,
    /// The bytes in the file.
    pub span: Span,
    /// For a value a service took from a template: the service's `extends` entry naming that
    /// template, in the same file. A template's one line then stays told apart per service,
    /// and errors and `envc diff` name both lines.
    pub via: Option<Span>,
}

impl Origin {
    /// An origin written directly (not through a template).
    pub fn new(file: FileId, span: Span) -> Self {
        Origin {
            file,
            span,
            via: None,
        }
    }

    /// The `extends` entry this value came through, as an origin of its own.
    pub fn via_origin(self) -> Option<Origin> {
        self.via.map(|span| Origin::new(self.file, span))
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as shown to users (relative to the project root where possible, `/` separated).
    pub name: String,
    /// Path on disk.
    pub path: PathBuf,
    /// Full text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// A source file from its display name, disk path and text.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The text of a span, if it lies inside the file.
    pub fn slice(&self, span: Span) -> Option<&str> {
        self.text.get(span.range())
    }
}

/// All source files of one run, addressed by [`FileId`]. Files are shared, never changed once
/// added: a copy of the set (a mode compiled on another thread) costs a reference per file.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<std::sync::Arc<SourceFile>>,
}

impl Sources {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id. Adding the same path twice returns the first id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        if let Some(i) = self
            .files
            .iter()
            .position(|f| f.path == file.path && f.name == file.name)
        {
            return FileId(i as u32);
        }
        self.files.push(std::sync::Arc::new(file));
        FileId((self.files.len() - 1) as u32)
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every file, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), &**f))
    }

    /// Finds a file by disk path.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    /// `file:line:column` of an origin.
    pub fn location(&self, origin: Origin) -> String {
        let f = self.get(origin.file);
        let (l, c) = f.line_col(origin.span.start);
        format!("{}:{}:{}", f.name, l, c)
    }

    /// `file:line` of an origin; for a value taken from a template, also the line of the
    /// service's `extends` entry (`env.toml:12 (template, extended at line 40)`).
    pub fn file_line(&self, origin: Origin) -> String {
        let f = self.get(origin.file);
        let (l, _) = f.line_col(origin.span.start);
        match origin.via {
            Some(via) => {
                let (vl, _) = f.line_col(via.start);
                format!("{}:{} (template, extended at line {})", f.name, l, vl)
            }
            None => format!("{}:{}", f.name, l),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_in_chars() {
        let f = SourceFile::new("a.toml", "a.toml", "ab\nçd = 1\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes: the 'd' after it is the second character.
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.line_col(100), (3, 1));
    }
}
