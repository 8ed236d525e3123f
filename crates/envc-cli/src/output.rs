//! Where messages go: progress on stderr, colored when allowed.

use anstream::AutoStream;
use envc_model::style::{Role, Stylesheet};

use crate::args::ColorChoice;

/// Message sink with the color decision made once.
pub struct Output {
    /// Whether stderr gets ANSI colors.
    pub color: bool,
    choice: ColorChoice,
}

/// Whether a stream gets colors under `choice`: `--color`, else what anstream decides for the
/// stream (`NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`, `TERM=dumb`, whether it is a terminal).
fn wants_color<S: anstream::stream::RawStream>(choice: ColorChoice, stream: &S) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !matches!(AutoStream::choice(stream), anstream::ColorChoice::Never),
    }
}

impl Output {
    /// Decides on color for stderr.
    pub fn new(choice: ColorChoice) -> Self {
        Output {
            color: wants_color(choice, &std::io::stderr()),
            choice,
        }
    }

    /// Whether stdout gets ANSI colors (reports printed there).
    pub fn color_stdout(&self) -> bool {
        wants_color(self.choice, &std::io::stdout())
    }

    fn styles(&self) -> Stylesheet {
        Stylesheet::new(self.color)
    }

    /// A success line.
    pub fn done(&self, what: &str, msg: &str) {
        eprintln!("{} {msg}", self.styles().paint(Role::Success, what));
    }

    /// A note line.
    pub fn note(&self, what: &str, msg: &str) {
        eprintln!("{} {msg}", self.styles().paint(Role::Warning, what));
    }

    /// An error without a source location.
    pub fn error(&self, msg: &str) {
        eprintln!("{} {msg}", self.styles().paint(Role::Error, "error:"));
    }

    /// An error without a source location, with its code and hint (rendered like a
    /// diagnostic: `error[CODE]: message`, then `= hint: ...`).
    pub fn coded_error(&self, code: &str, msg: &str, hint: &str) {
        let head = format!("error[{code}]:");
        eprintln!("{} {msg}", self.styles().paint(Role::Error, &head));
        if !hint.is_empty() {
            eprintln!("  = hint: {hint}");
        }
    }
}
