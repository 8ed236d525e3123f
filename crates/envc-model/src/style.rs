//! The one stylesheet of envc's human-readable output: which role gets which terminal style.
//!
//! Renderers (diagnostics aside, which codespan-reporting styles) ask for a role, never for an
//! escape code, and the caller decides once whether colour is on (`styled()` or `plain()`), so
//! no renderer can forget `NO_COLOR` or paint a pipe.

use std::fmt::Display;

use anstyle::{AnsiColor, Style};

/// Terminal styles by role, or none at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stylesheet {
    enabled: bool,
}

/// What a piece of output is, for styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A report's title or a section heading.
    Heading,
    /// Something added (a `+` line, an added unit).
    Added,
    /// Something removed (a `-` line, a removed unit).
    Removed,
    /// Something changed in place.
    Changed,
    /// Neutral emphasis (an affected unit).
    Info,
    /// A passed check or a completed step.
    Success,
    /// A warning or note.
    Warning,
    /// A failure or an error.
    Error,
}

impl Role {
    fn style(self) -> Style {
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        match self {
            Role::Heading => Style::new().bold(),
            Role::Added => fg(AnsiColor::Green),
            Role::Removed => fg(AnsiColor::Red),
            Role::Changed => fg(AnsiColor::Yellow),
            Role::Info => fg(AnsiColor::Cyan),
            Role::Success => fg(AnsiColor::Green).bold(),
            Role::Warning => fg(AnsiColor::Yellow).bold(),
            Role::Error => fg(AnsiColor::Red).bold(),
        }
    }
}

impl Stylesheet {
    /// Styles on: for a terminal that wants colour.
    pub fn styled() -> Self {
        Stylesheet { enabled: true }
    }

    /// No styles: for files, pipes, `NO_COLOR` and tests.
    pub fn plain() -> Self {
        Stylesheet { enabled: false }
    }

    /// `styled()` when `color` is set, else `plain()`.
    pub fn new(color: bool) -> Self {
        Stylesheet { enabled: color }
    }

    /// Whether styles are on.
    pub fn is_styled(&self) -> bool {
        self.enabled
    }

    /// `text` in the style of `role` (unchanged when styles are off).
    pub fn paint(&self, role: Role, text: impl Display) -> String {
        if self.enabled {
            let style = role.style();
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_output_has_no_escape_codes() {
        assert_eq!(Stylesheet::plain().paint(Role::Error, "error:"), "error:");
        let styled = Stylesheet::styled().paint(Role::Added, "+ x");
        assert_eq!(styled, "\x1b[32m+ x\x1b[0m");
        assert_eq!(
            Stylesheet::styled().paint(Role::Error, "e"),
            "\x1b[1m\x1b[31me\x1b[0m"
        );
    }
}
