//! `envc`: compile one environment description into the artifacts of every deployment mode.

// `print!` and friends panic when the stream is closed (`envc check 2>&1 | head -1`, once
// `head` has exited: Rust ignores SIGPIPE, so the write fails with EPIPE). A reader that
// stopped reading is not an error of the run, so every module of the binary prints through
// these, which shadow std's macros (macros defined before the `mod` lines are in scope in
// them) and drop write errors; the exit status still says what the run found.
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod args;
mod build;
mod coded;
mod diff;
mod docs;
mod endpoints;
mod explain;
mod graph;
mod import;
mod inspect;
mod json;
mod output;
mod project;
mod promote;
mod render;
mod root;
mod stdout;
mod write;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command};

/// Exit status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything as asked.
    Ok,
    /// A check found a difference (`--check` found `out/` stale).
    Failed,
    /// Invalid input or usage.
    Invalid,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        match s {
            Status::Ok => ExitCode::SUCCESS,
            Status::Failed => ExitCode::from(1),
            Status::Invalid => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    // Without --root, the project is found upwards from the current directory, as cargo does.
    let given = matches.value_source("root") == Some(ValueSource::CommandLine);
    cli.root = root::resolve(given.then_some(cli.root.as_path()));
    let out = output::Output::new(cli.color);
    let result = match &cli.command {
        Command::Build(b) => build::run(&cli, b, &out),
        Command::Check(c) => build::check_only(&cli, c, &out),
        Command::Schema(s) => build::schema(s),
        Command::List(l) => build::list(&cli, l, &out),
        Command::Diff(d) => diff::run(&cli, d, &out),
        Command::Promote(p) => promote::run(&cli, p, &out),
        Command::Import(i) => import::run(&cli.root, i, &|what, msg| out.done(what, msg)),
        Command::Render(r) => stdout::run(&cli, r, &out),
        Command::Explain(e) => explain::run(&cli, e, &out),
        Command::Graph(g) => graph::run(&cli, g, &out),
        Command::Endpoints(e) => endpoints::run(&cli, e, &out),
        Command::Completions(c) => docs::completions(c),
        Command::Man(m) => docs::man(m),
    };
    match result {
        Ok(status) => status.into(),
        Err(e) => {
            let fallback = fallback(&cli.command);
            let (code, hint) = coded::code_of(&e, &fallback);
            out.coded_error(code, &format!("{e:#}"), hint);
            Status::Invalid.into()
        }
    }
}

/// The code and hint of a command's errors that carry none of their own: what the command
/// reads (arguments, files) went wrong.
fn fallback(c: &Command) -> coded::Coded {
    let (code, hint) = match c {
        Command::Diff(_) => (
            "E-diff-input",
            "see `envc diff --help` for what each argument takes",
        ),
        Command::Promote(_) => (
            "E-promote-input",
            "see `envc promote --help` for what each argument takes",
        ),
        Command::Render(_)
        | Command::Explain(_)
        | Command::Graph(_)
        | Command::Endpoints(_)
        | Command::Completions(_) => (
            "E-usage",
            "see the command's --help for what each argument takes",
        ),
        _ => (
            "E-io",
            "check that the files named exist and are readable, and the output folder writable",
        ),
    };
    coded::Coded {
        code,
        message: String::new(),
        hint: hint.to_string(),
    }
}
