//! Where messages go: progress on stderr, colored when allowed.

use std::io::IsTerminal;

use crate::args::ColorChoice;

/// Message sink with the color decision made once.
pub struct Output {
    /// Whether stderr gets ANSI colors.
    pub color: bool,
    choice: ColorChoice,
}

impl Output {
    /// Decides on color: `--color`, then NO_COLOR, then whether stderr is a terminal.
    pub fn new(choice: ColorChoice) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        };
        Output { color, choice }
    }

    /// Whether stdout gets ANSI colors (reports printed there).
    pub fn color_stdout(&self) -> bool {
        match self.choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal(),
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// A success line.
    pub fn done(&self, what: &str, msg: &str) {
        eprintln!("{} {msg}", self.paint("1;32", what));
    }

    /// A note line.
    pub fn note(&self, what: &str, msg: &str) {
        eprintln!("{} {msg}", self.paint("1;33", what));
    }

    /// An error without a source location.
    pub fn error(&self, msg: &str) {
        eprintln!("{} {msg}", self.paint("1;31", "error:"));
    }
}
