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
        t.path()
            .join("environments/app/web")
            .canonicalize()
            .expect("dir")
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

/// The files under a directory, relative, sorted (temporary directories included).
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().to_string());
            }
        }
    }
    out.sort();
    out
}

const TWO_SERVICES: &str = "[environment]\nname = \"app\"\n\n[namespaces.app]\nname = \"app\"\n\n[services.web]\nimage = \"ghcr.io/example/web:1.0.0\"\n\n[services.api]\nimage = \"ghcr.io/example/api:1.0.0\"\n";

#[test]
fn a_build_killed_at_each_step_never_leaves_a_set_missing() {
    for step in ["staged", "exchanged"] {
        let t = small_project(TWO_SERVICES);
        let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
        assert_eq!(code, 0, "{err}");
        let set = t.path().join("out/app/k3s");
        let before = listing(&set);
        // The next build has a file fewer and another image.
        let env = TWO_SERVICES
            .replace(
                "[services.api]\nimage = \"ghcr.io/example/api:1.0.0\"\n",
                "",
            )
            .replace("web:1.0.0", "web:1.0.1");
        fs::write(t.path().join("environments/app.toml"), &env).unwrap();
        let after = {
            let fresh = small_project(&env);
            let (code, _, err) = parts(&envc(fresh.path(), &["build", "--target", "k3s"]));
            assert_eq!(code, 0, "{err}");
            listing(&fresh.path().join("out/app/k3s"))
        };
        assert_ne!(before, after);

        let killed = Command::new(env!("CARGO_BIN_EXE_envc"))
            .args(["build", "--target", "k3s"])
            .current_dir(t.path())
            .env("ENVC_TEST_CRASH_AT", step)
            .output()
            .expect("run envc");
        assert!(
            killed.status.code().is_none(),
            "{step}: the hook aborts the build ({:?})",
            killed.status
        );
        let now = listing(&set);
        assert!(
            now == before || now == after,
            "{step}: the set is whole, old or new: {now:?}"
        );
        let leftovers: Vec<String> = fs::read_dir(t.path().join("out/app"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.contains(".envc-"))
            .collect();
        assert_eq!(leftovers.len(), 1, "{step}: {leftovers:?}");

        // `--check` names the leftover; the next build removes it and writes the new set.
        let (code, stdout, _) = parts(&envc(t.path(), &["build", "--target", "k3s", "--check"]));
        assert_eq!(code, 1, "{step}: {stdout}");
        assert!(
            stdout.contains(&format!("leftover out/app/{}", leftovers[0])),
            "{step}: {stdout}"
        );
        let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("left by an interrupted build"), "{err}");
        assert_eq!(listing(&set), after, "{step}");
        assert_eq!(
            fs::read_dir(t.path().join("out/app")).unwrap().count(),
            1,
            "{step}: only the set is left"
        );
        let (code, stdout, err) = parts(&envc(t.path(), &["build", "--target", "k3s", "--check"]));
        assert_eq!(code, 0, "{step}: {stdout}{err}");
    }
}

#[test]
fn concurrent_builds_take_turns() {
    let t = small_project(TWO_SERVICES);
    let root = t.path().to_path_buf();
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let root = root.clone();
            std::thread::spawn(move || {
                // Half of them change the model, so sets are replaced while others write.
                let target = if i % 2 == 0 { "k3s" } else { "all" };
                parts(&envc(&root, &["build", "--target", target]))
            })
        })
        .collect();
    for r in runs {
        let (code, _, err) = r.join().unwrap();
        assert_eq!(code, 0, "{err}");
    }
    let (code, stdout, err) = parts(&envc(&root, &["build", "--check"]));
    assert_eq!(code, 0, "{stdout}{err}");
}

#[test]
fn an_output_folder_that_is_a_file_is_a_coded_error() {
    let t = small_project(TWO_SERVICES);
    fs::write(t.path().join("out"), "not a folder").unwrap();
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E-write]: "), "{err}");
    assert!(err.contains("out is not a folder"), "{err}");
    assert!(err.contains("= hint: "), "{err}");
    let (code, _, err) = parts(&envc(
        t.path(),
        &["build", "--target", "k3s", "--out", "out/x"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E-write]: "), "{err}");
    assert!(err.contains("= hint: "), "{err}");
}

#[cfg(unix)]
#[test]
fn a_read_only_output_folder_is_a_coded_error() {
    use std::os::unix::fs::PermissionsExt;
    let t = small_project(TWO_SERVICES);
    let out = t.path().join("out");
    fs::create_dir_all(&out).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(out.join("probe"), "").is_ok() {
        // Root writes anyway: nothing to test here.
        fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).unwrap();
        return;
    }
    let (code, _, err) = parts(&envc(t.path(), &["build", "--target", "k3s"]));
    fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E-write]: "), "{err}");
    assert!(err.contains("is not writable"), "{err}");
}

#[test]
fn terraform_descriptions_are_not_interpolated() {
    let t = crate::common::lakehouse_project();
    let dir = t.path();
    // Without its lock, eks follows the model, so the edited description reaches it.
    fs::remove_file(dir.join("locks/crypto-lakehouse/eks.toml")).unwrap();
    let env = dir.join("environments/crypto-lakehouse.toml");
    let text = fs::read_to_string(&env).unwrap();
    let from = "description = \"Password of the `prefect` database user\"";
    assert!(text.contains(from));
    fs::write(
        &env,
        text.replacen(
            from,
            "description = \"Password of ${user}, see %{the docs}\"",
            1,
        ),
    )
    .unwrap();
    let (code, _, err) = parts(&envc(dir, &["build", "--target", "eks"]));
    assert_eq!(code, 0, "{err}");
    let tf =
        fs::read_to_string(dir.join("out/crypto-lakehouse/eks/terraform/variables.tf")).unwrap();
    assert!(
        tf.contains("description = \"Password of $${user}, see %%{the docs} (pass as"),
        "{tf}"
    );
    assert!(!tf.contains("\"Password of ${user}"), "{tf}");
}

#[test]
fn scalars_yaml_1_1_reads_otherwise_stay_strings() {
    // docker-compose v1 and many Kubernetes tools read YAML 1.1, where these are booleans,
    // numbers, null or times.
    let values = [
        "on", "yes", "y", "NO", "0o12", "012", "1e3", "~", "1_000", "0x1F", "1:20",
    ];
    let env: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("V{i} = \"{v}\", "))
        .collect();
    let model = format!(
        "[environment]\nname = \"app\"\n\n[namespaces.app]\nname = \"app\"\n\n[services.web]\nimage = \"ghcr.io/example/web:1.0.0\"\nenv = {{ {env}HOME_DIR = \"$HOME\" }}\n"
    );
    let t = small_project(&model);
    let (code, _, err) = parts(&envc(t.path(), &["build"]));
    assert_eq!(code, 0, "{err}");
    let compose = fs::read_to_string(t.path().join("out/app/docker/docker-compose.yml")).unwrap();
    let k3s = fs::read_to_string(t.path().join("out/app/k3s/web.yaml")).unwrap();
    for (i, v) in values.iter().enumerate() {
        assert!(compose.contains(&format!("V{i}: '{v}'")), "{v}: {compose}");
        assert!(k3s.contains(&format!("value: '{v}'")), "{v}: {k3s}");
    }
    // Compose interpolates `$`: the file doubles it so the container gets `$HOME` as written.
    assert!(compose.contains("HOME_DIR: $$HOME"), "{compose}");
}

#[test]
fn command_line_mistakes_have_codes_and_hints() {
    let t = small_project(TWO_SERVICES);
    for (args, code) in [
        (&["promote", "k3s", "nope"][..], "error[E-promote-input]"),
        (&["diff", "k3s", "nope"], "error[E-diff-input]"),
    ] {
        let (status, _, err) = parts(&envc(t.path(), args));
        assert_eq!(status, 2, "{args:?}: {err}");
        assert!(err.contains(code), "{args:?}: {err}");
        assert!(err.contains("= hint: "), "{args:?}: {err}");
    }
}
