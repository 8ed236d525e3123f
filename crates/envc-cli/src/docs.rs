//! `envc completions` and `envc man`: shell completion scripts and manual pages, generated from
//! the same clap definition the binary parses with, so they never miss an option.

use std::fs;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::Status;
use crate::args::{Cli, CompletionsArgs, ManArgs};

/// `envc completions SHELL`: the script on stdout.
pub fn completions(c: &CompletionsArgs) -> Result<Status> {
    let mut cmd = Cli::command();
    let mut buf: Vec<u8> = Vec::new();
    clap_complete::generate(c.shell, &mut cmd, "envc", &mut buf);
    print!("{}", String::from_utf8_lossy(&buf));
    Ok(Status::Ok)
}

/// `envc man`: envc.1 on stdout, or with `--out DIR` envc.1 and one page per command.
pub fn man(m: &ManArgs) -> Result<Status> {
    let cmd = Cli::command();
    let Some(dir) = &m.out else {
        let mut buf: Vec<u8> = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut buf)
            .context("failed to render the manual page")?;
        print!("{}", String::from_utf8_lossy(&buf));
        return Ok(Status::Ok);
    };
    fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("failed to write manual pages into {}", dir.display()))?;
    Ok(Status::Ok)
}
