//! Hardening (issue 13): paths confined to the project, artifact names that cannot collide,
//! tamper-evident locks, crash-safe writes, closed pipes.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{envc, parts};

const PROFILE: &str = "[profile]\nbackend = \"kubernetes\"\ntier = \"dev\"\n\n[kubernetes]\nversion = \"1.34\"\nstorage_class = \"local-path\"\n";

/// A small project: one environment `app` (its text given), a k3s and a docker profile.
pub fn small_project(env: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(t.path().join("environments/app")).expect("mkdir");
    fs::create_dir_all(t.path().join("profiles")).expect("mkdir");
    fs::write(t.path().join("environments/app.toml"), env).expect("write env");
    fs::write(t.path().join("profiles/k3s.toml"), PROFILE).expect("write profile");
    fs::write(
        t.path().join("profiles/docker.toml"),
        "[profile]\nbackend = \"compose\"\ntier = \"dev\"\n",
    )
    .expect("write profile");
    t
}

const TEMPLATED: &str = "[environment]\nname = \"app\"\n\n[namespaces.app]\nname = \"app\"\n\n[services.web]\nimage = \"ghcr.io/example/web:1.0.0\"\nfiles = { conf = { template = \"app/web.conf\", path = \"/etc/web.conf\" } }\n";

#[cfg(unix)]
#[test]
fn a_template_symlinked_out_of_the_project_is_refused() {
    let outside = tempfile::tempdir().expect("tempdir");
    let host_file = outside.path().join("host-secret");
    fs::write(&host_file, "root:HOST-ONLY-CONTENT\n").expect("write");
    let mut targets = vec![host_file];
    if Path::new("/etc/shadow").exists() {
        targets.push("/etc/shadow".into());
    }
    for target in targets {
        let t = small_project(TEMPLATED);
        std::os::unix::fs::symlink(&target, t.path().join("environments/app/web.conf"))
            .expect("symlink");
        let (code, stdout, stderr) = parts(&envc(t.path(), &["build", "--target", "all"]));
        assert_eq!(code, 2, "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains("error[E-path-outside]"), "{stderr}");
        assert!(
            stderr.contains("template `app/web.conf` is a symlink to"),
            "{stderr}"
        );
        assert!(stderr.contains("environments/app.toml:9:"), "{stderr}");
        assert!(!stderr.contains("HOST-ONLY-CONTENT"), "{stderr}");
        assert!(!t.path().join("out").exists(), "nothing written");
    }
}

#[cfg(unix)]
#[test]
fn a_symlinked_folder_leading_out_is_refused_and_one_inside_is_fine() {
    let outside = tempfile::tempdir().expect("tempdir");
    fs::write(outside.path().join("web.conf"), "HOST-ONLY-CONTENT\n").expect("write");
    let t = small_project(&TEMPLATED.replace("app/web.conf", "link/web.conf"));
    std::os::unix::fs::symlink(outside.path(), t.path().join("environments/link"))
        .expect("symlink");
    let (code, _, stderr) = parts(&envc(t.path(), &["check"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("error[E-path-outside]"), "{stderr}");

    // A symlink that stays inside the project is followed.
    let t = small_project(&TEMPLATED.replace("app/web.conf", "link/web.conf"));
    fs::write(t.path().join("environments/app/web.conf"), "port = 1\n").expect("write");
    std::os::unix::fs::symlink(
        t.path().join("environments/app"),
        t.path().join("environments/link"),
    )
    .expect("symlink");
    let (code, _, stderr) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_build_context_is_written_relative_to_the_artifact_set() {
    let env = "[environment]\nname = \"app\"\n\n[namespaces.app]\nname = \"app\"\n\n[services.web]\nimage = \"ghcr.io/example/web:1.0.0\"\nbuild = { context = \"app/web\" }\n";
    let t = small_project(env);
    fs::create_dir_all(t.path().join("environments/app/web")).expect("mkdir");
    let (code, _, stderr) = parts(&envc(t.path(), &["build", "--target", "docker"]));
    assert_eq!(code, 0, "{stderr}");
    let compose =
        fs::read_to_string(t.path().join("out/app/docker/docker-compose.yml")).expect("compose");
    assert!(
        compose.contains("context: ../../../environments/app/web"),
        "{compose}"
    );
    // The context the file names, seen from the file's folder, is the folder of the model.
    let seen = t
        .path()
        .join("out/app/docker/../../../environments/app/web")
        .canonicalize()
        .expect("context exists");
    assert_eq!(
        seen,
        t.path().join("environments/app/web").canonicalize().expect("dir")
    );
}

/// Runs `envc` with stdout and stderr on a pipe whose reading end is already closed.
fn closed_pipe(dir: &Path, args: &[&str]) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let writer2 = writer.try_clone().expect("clone");
    Command::new(env!("CARGO_BIN_EXE_envc"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .status()
        .expect("run envc")
}

#[test]
fn a_closed_pipe_never_panics() {
    let t = small_project(TEMPLATED);
    fs::write(t.path().join("environments/app/web.conf"), "port = 1\n").expect("write");
    // `envc check 2>&1 | head -1`, after head has exited.
    for args in [
        &["check"][..],
        &["list"],
        &["schema"],
        &["build", "--target", "k3s"],
        &["build", "--check"],
    ] {
        let status = closed_pipe(t.path(), args);
        assert_ne!(status.code(), Some(101), "{args:?} panicked");
    }
    // The exit status still says what happened: an invalid model is exit 2.
    fs::write(t.path().join("environments/app.toml"), "[environment\n").expect("write");
    assert_eq!(closed_pipe(t.path(), &["check"]).code(), Some(2));
}
