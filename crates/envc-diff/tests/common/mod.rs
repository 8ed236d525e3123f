//! Helpers the diff's integration tests share: the repository, the pinned helm, a chart
//! rendered by it.

#![allow(dead_code, clippy::expect_used)]

use std::path::{Path, PathBuf};

use envc_diff::FileSet;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Helm as the CLI tests find it: `$ENVC_TOOLS/bin`, `~/.cache/envc-tools/bin`, then `PATH`.
/// Without it, `None` and a SKIPPED message naming `what` is skipped, unless
/// `ENVC_REQUIRE_TOOLS=1`, which makes a missing helm a failure.
pub fn helm_or_skip(what: &str) -> Option<PathBuf> {
    let tools = std::env::var_os("ENVC_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/envc-tools")));
    let found = tools
        .map(|t| t.join("bin/helm"))
        .filter(|b| b.is_file())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("helm"))
                    .find(|d| d.is_file())
            })
        });
    if found.is_none() {
        let why = "helm not found in $ENVC_TOOLS/bin (~/.cache/envc-tools/bin) or on PATH";
        assert!(
            std::env::var("ENVC_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "ENVC_REQUIRE_TOOLS=1: {why}"
        );
        eprintln!("SKIPPED {what}: {why}");
    }
    found
}

/// `helm template envc CHART`, as one in-memory file named after the chart.
pub fn rendered(helm: &Path, chart: &Path) -> FileSet {
    let out = std::process::Command::new(helm)
        .args(["template", "envc"])
        .arg(chart)
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm template {}: {}",
        chart.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    FileSet::from_memory(chart.display().to_string(), [("-".to_string(), out.stdout)])
}
