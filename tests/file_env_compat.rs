//! `sesame --file-env NAMES` side by side with the docker-library `file_env` function
//! (SPEC §3.5, issue 15): the same variables and files go to a bash script that calls
//! `file_env` for each name, as the postgres, mysql and mariadb entrypoints do, and to
//! sesame; both then run `env -0`, and the two environments (or refusals) are compared.
//!
//! Every case is either the same, or differs exactly as one row of [`DIFFERENCES`]
//! says; that table is the one in examples/migrate-from-file-env/README.md, which a
//! test below checks line by line.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::process::{Command, Stdio};

/// The docker-library `file_env`, as the postgres image's docker-entrypoint.sh has it
/// (mysql's and mariadb's differ only in how they print the error), under the same
/// `set -Eeo pipefail`.
const FILE_ENV: &str = r#"set -Eeo pipefail
file_env() {
	local var="$1"
	local fileVar="${var}_FILE"
	local def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
		exit 1
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}
"#;

/// The documented differences: `(case, file_env, sesame)`, each exactly the first three
/// cells of a row of the guide's table (whose fourth cell says why).
const DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "`X` and `X_FILE` both unset or empty",
        "exports `X=\"\"`",
        "leaves `X` unset",
    ),
    (
        "`file_env X DEFAULT`, neither set",
        "exports `X=DEFAULT`",
        "leaves `X` unset (`--file-env` has no defaults)",
    ),
    (
        "the file ends in `\\r\\n`",
        "keeps the `\\r`",
        "drops the `\\r\\n`",
    ),
    (
        "`X_FILE` names a directory or a device",
        "exports `X=\"\"` (a directory) or what the device gives",
        "refuses to start (78)",
    ),
    (
        "`X_FILE` names a FIFO, or a pipe (`X_FILE=/dev/stdin` under `docker run -i`)",
        "hangs until a writer comes and closes it, then has what it wrote",
        "refuses to start (78)",
    ),
    (
        "the file holds a NUL byte",
        "drops it, with a warning",
        "refuses to start (78)",
    ),
    (
        "the file is not UTF-8",
        "passes the bytes",
        "refuses to start (78)",
    ),
    (
        "a glob (`POSTGRES_*`) and a `X_FILE` the script never calls `file_env` for",
        "leaves it alone",
        "expands it",
    ),
    (
        "both `X` and `X_FILE` set, or `X_FILE` names no file",
        "exits 1 at the first",
        "reports every problem, exits 78",
    ),
    (
        "a manifest secret read from a variable that is not UTF-8",
        "passes the bytes",
        "refuses to start (78)",
    ),
];

/// What one side did.
#[derive(Debug)]
enum Outcome {
    /// Exit 0: the program's environment (bash's own `PWD`, `SHLVL` and `_` left out).
    Ran(BTreeMap<Vec<u8>, Vec<u8>>),
    /// Did not start the program: the exit code.
    Refused(i32),
    /// Still running when the timeout (bash side only) ended it.
    Hung,
}

impl Outcome {
    fn env(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        match self {
            Outcome::Ran(env) => env,
            other => panic!("expected the program to run, got {other:?}"),
        }
    }
}

/// How a case compares.
#[derive(Clone, Copy)]
enum Expect {
    /// The same environment, or both refuse.
    Same,
    /// `X` is `""` on the bash side and unset on sesame's; the rest is the same.
    EmptyNotExported(&'static str),
    /// `X` is the default on the bash side and unset on sesame's.
    Default(&'static str, &'static str),
    /// `X` ends in `\r` on the bash side only.
    CrLf(&'static str),
    /// bash starts the program with `X` set to these bytes; sesame refuses (78). The
    /// number is the row of [`DIFFERENCES`].
    SesameRefuses(usize, &'static [u8]),
    /// bash hangs; sesame refuses (78).
    Fifo,
    /// sesame expands `X_FILE` (a glob matched it); bash leaves it as it was.
    GlobWider(&'static str),
    /// bash exits 1, sesame 78.
    BothRefuse,
}

impl Expect {
    /// The row of [`DIFFERENCES`] this case shows, if any.
    fn row(self) -> Option<usize> {
        match self {
            Expect::Same => None,
            Expect::EmptyNotExported(_) => Some(0),
            Expect::Default(..) => Some(1),
            Expect::CrLf(_) => Some(2),
            Expect::SesameRefuses(row, ..) => Some(row),
            Expect::Fifo => Some(4),
            Expect::GlobWider(_) => Some(7),
            Expect::BothRefuse => Some(8),
        }
    }
}

/// One input: variables, files (relative to the case directory; `{dir}` in a
/// variable's value is replaced by it), the script's `file_env` calls, and sesame's
/// `--file-env` list (or a manifest).
struct Input {
    name: &'static str,
    vars: Vec<(&'static str, Vec<u8>)>,
    files: Vec<(&'static str, File)>,
    calls: Vec<(&'static str, Option<&'static str>)>,
    names: &'static str,
    manifest: Option<&'static str>,
    /// sesame runs the same script (`sesame --file-env NAMES -- bash -c SCRIPT`), as in
    /// front of an image's stock entrypoint, instead of `env -0` directly.
    in_front: bool,
    /// What both sides get on stdin (a pipe); `None`: /dev/null.
    stdin: Option<&'static [u8]>,
    expect: Expect,
}

enum File {
    Bytes(Vec<u8>),
    Dir,
    Fifo,
    Link(&'static str),
}

fn input(name: &'static str, expect: Expect) -> Input {
    Input {
        name,
        vars: Vec::new(),
        files: Vec::new(),
        calls: vec![("X", None)],
        names: "X",
        manifest: None,
        in_front: false,
        stdin: None,
        expect,
    }
}

impl Input {
    fn var(mut self, k: &'static str, v: impl Into<Vec<u8>>) -> Self {
        self.vars.push((k, v.into()));
        self
    }
    fn file(mut self, path: &'static str, f: File) -> Self {
        self.files.push((path, f));
        self
    }
    /// `X_FILE` names the file `x` with these bytes.
    fn x_file(self, bytes: &[u8]) -> Self {
        self.file("x", File::Bytes(bytes.to_vec()))
            .var("X_FILE", "{dir}/x")
    }
    fn stdin(mut self, bytes: &'static [u8]) -> Self {
        self.stdin = Some(bytes);
        self
    }
    fn in_front(mut self) -> Self {
        self.in_front = true;
        self
    }
    /// The script's `file_env` calls (a default is written into the script as it is,
    /// quotes and all) and sesame's list.
    fn calls(
        mut self,
        calls: &[(&'static str, Option<&'static str>)],
        names: &'static str,
    ) -> Self {
        self.calls = calls.to_vec();
        self.names = names;
        self
    }
}

fn cases() -> Vec<Input> {
    use Expect::*;
    let unrelated = [
        ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
        ),
        ("ENV_FILE", "/app/.env"),
        ("GF_SECURITY_ADMIN_PASSWORD__FILE", "{dir}/x"),
        ("EMPTY_FILE", ""),
    ];
    let postgres: &[(&str, Option<&str>)] = &[
        ("POSTGRES_PASSWORD", None),
        ("POSTGRES_USER", None),
        ("POSTGRES_DB", None),
        ("POSTGRES_INITDB_ARGS", None),
    ];
    let mut v = vec![
        input("X_FILE names a file", Same).x_file(b"file-value-7c1e\n"),
        input("X set, X_FILE unset", Same).var("X", "env-value-1b2d"),
        input("X set, X_FILE empty", Same)
            .var("X", "env-value-1b2d")
            .var("X_FILE", ""),
        input("X empty, X_FILE names a file", Same)
            .var("X", "")
            .x_file(b"file-value-7c1e\n"),
        input("X empty, X_FILE empty", Same)
            .var("X", "")
            .var("X_FILE", ""),
        input("only X_FILE, empty", EmptyNotExported("X")).var("X_FILE", ""),
        input("neither set", EmptyNotExported("X")),
        input("a default, neither set", Default("X", "fallback-9"))
            .calls(&[("X", Some("'fallback-9'"))], "X"),
        input("a default, X_FILE set", Same)
            .calls(&[("X", Some("'fallback-9'"))], "X")
            .x_file(b"file-value-7c1e"),
        input("both set", BothRefuse)
            .var("X", "env-value-1b2d")
            .x_file(b"file-value-7c1e\n"),
        input("X_FILE names no file", BothRefuse).var("X_FILE", "{dir}/missing"),
        input("trailing newlines", Same).x_file(b"file-value-7c1e\n\n\n"),
        input("leading and inner newlines, trailing spaces", Same)
            .x_file(b"\n\nfile value\n\n7c1e  \n"),
        input("no newline at the end", Same).x_file(b"file-value-7c1e"),
        input("CRLF", CrLf("X")).x_file(b"file-value-7c1e\r\n"),
        input("CRLF twice", CrLf("X")).x_file(b"file-value-7c1e\r\n\r\n"),
        input("a lone CR at the end", Same).x_file(b"file-value-7c1e\r"),
        input("an empty file", Same).x_file(b""),
        input("a file of newlines", Same).x_file(b"\n\n"),
        input("a relative X_FILE", Same)
            .file("rel/x", File::Bytes(b"file-value-7c1e\n".to_vec()))
            .var("X_FILE", "rel/x"),
        input("a symbolic link", Same)
            .file("target", File::Bytes(b"file-value-7c1e\n".to_vec()))
            .file("x", File::Link("target"))
            .var("X_FILE", "{dir}/x"),
        input("a directory", SesameRefuses(3, b""))
            .file("d", File::Dir)
            .var("X_FILE", "{dir}/d"),
        input("a device", SesameRefuses(3, b"")).var("X_FILE", "/dev/null"),
        input("a FIFO", Fifo)
            .file("fifo", File::Fifo)
            .var("X_FILE", "{dir}/fifo"),
        // `docker run -i` with the value piped in: bash reads the pipe to its end.
        input(
            "X_FILE is /dev/stdin, a pipe",
            SesameRefuses(4, b"piped-value-3f1a"),
        )
        .var("X_FILE", "/dev/stdin")
        .stdin(b"piped-value-3f1a\n"),
        input("a NUL byte", SesameRefuses(5, b"file-value-7c1e")).x_file(b"file-value\x00-7c1e\n"),
        input("not UTF-8", SesameRefuses(6, b"file-value-\xff\xfe-7c1e"))
            .x_file(b"file-value-\xff\xfe-7c1e\n"),
        input("X not UTF-8, X_FILE unset", Same).var("X", b"env-value-\xff-1b2d".to_vec()),
        input("X not UTF-8, X_FILE empty", Same)
            .var("X", b"env-value-\xff-1b2d".to_vec())
            .var("X_FILE", ""),
        {
            let mut i = input(
                "a manifest secret from a variable that is not UTF-8",
                SesameRefuses(9, b"env-value-\xff-1b2d"),
            )
            .var("X", b"env-value-\xff-1b2d".to_vec());
            i.manifest = Some("version: 1\nsecrets:\n  X: {}\n");
            i
        },
        // The issue's cases: programs that read their own *_FILE.
        unrelated.iter().fold(
            input("unrelated *_FILE variables", Same)
                .calls(postgres, "POSTGRES_*")
                .file("x", File::Bytes(b"admin-password-31f0\n".to_vec()))
                .file("pg", File::Bytes(b"pg-password-5d7a\n".to_vec()))
                .file("user", File::Bytes(b"pg-user\n".to_vec()))
                .var("POSTGRES_PASSWORD_FILE", "{dir}/pg")
                .var("POSTGRES_USER_FILE", "{dir}/user")
                .var("POSTGRES_DB", "app")
                .var("POSTGRES_INITDB_ARGS", "--data-checksums"),
            |i, (k, v)| i.var(k, *v),
        ),
        input("a glob, and names the script calls", Same)
            .calls(postgres, "POSTGRES_*")
            .file("pg", File::Bytes(b"pg-password-5d7a\n".to_vec()))
            .var("POSTGRES_PASSWORD_FILE", "{dir}/pg")
            .var("POSTGRES_USER", "app")
            .var("POSTGRES_DB", "app")
            .var("POSTGRES_INITDB_ARGS", "--data-checksums"),
        input(
            "a glob, and a name the script does not call",
            GlobWider("POSTGRES_HOST_AUTH_METHOD"),
        )
        .calls(postgres, "POSTGRES_*")
        .file("pg", File::Bytes(b"pg-password-5d7a\n".to_vec()))
        .file("auth", File::Bytes(b"scram-sha-256\n".to_vec()))
        .var("POSTGRES_PASSWORD_FILE", "{dir}/pg")
        .var("POSTGRES_USER", "app")
        .var("POSTGRES_DB", "app")
        .var("POSTGRES_INITDB_ARGS", "--data-checksums")
        .var("POSTGRES_HOST_AUTH_METHOD_FILE", "{dir}/auth"),
        input("a list of exact names", Same)
            .calls(
                &[("MYSQL_PASSWORD", None), ("MYSQL_ROOT_PASSWORD", None)],
                " MYSQL_PASSWORD , MYSQL_ROOT_PASSWORD ",
            )
            .file("a", File::Bytes(b"mysql-password-0a9c\n".to_vec()))
            .file("b", File::Bytes(b"mysql-root-password-e3f8\n".to_vec()))
            .var("MYSQL_PASSWORD_FILE", "{dir}/a")
            .var("MYSQL_ROOT_PASSWORD_FILE", "{dir}/b")
            .var("MYSQL_ROOT_HOST_FILE", "{dir}/a"),
    ];
    // sesame in front of the stock script: the script's own calls then apply their
    // defaults and export the empty ones, and the program's environment is the one
    // the script alone gives it.
    let stock: &[(&str, Option<&str>)] = &[
        ("POSTGRES_PASSWORD", None),
        ("POSTGRES_USER", Some("'postgres'")),
        ("POSTGRES_DB", Some("\"$POSTGRES_USER\"")),
        ("POSTGRES_INITDB_ARGS", None),
    ];
    let list = "POSTGRES_PASSWORD,POSTGRES_USER,POSTGRES_DB,POSTGRES_INITDB_ARGS";
    v.extend([
        input(
            "in front: the password from a file, the rest defaults",
            Same,
        )
        .calls(stock, list)
        .in_front()
        .file("pg", File::Bytes(b"pg-password-5d7a\n".to_vec()))
        .var("POSTGRES_PASSWORD_FILE", "{dir}/pg"),
        input("in front: empty and unset variables", Same)
            .calls(stock, list)
            .in_front()
            .file("user", File::Bytes(b"pg-user\n".to_vec()))
            .var("POSTGRES_PASSWORD_FILE", "")
            .var("POSTGRES_USER_FILE", "{dir}/user")
            .var("POSTGRES_INITDB_ARGS", ""),
        unrelated.iter().fold(
            input("in front: unrelated *_FILE variables", Same)
                .calls(stock, list)
                .in_front()
                .file("x", File::Bytes(b"admin-password-31f0\n".to_vec()))
                .var("POSTGRES_DB_FILE", "{dir}/x"),
            |i, (k, v)| i.var(k, *v),
        ),
        input("in front: CRLF", CrLf("POSTGRES_PASSWORD"))
            .calls(stock, list)
            .in_front()
            .file("pg", File::Bytes(b"pg-password-5d7a\r\n".to_vec()))
            .var("POSTGRES_PASSWORD_FILE", "{dir}/pg"),
        input("in front: mysql, with a default", Same)
            .calls(
                &[
                    ("MYSQL_ROOT_HOST", Some("'%'")),
                    ("MYSQL_DATABASE", None),
                    ("MYSQL_USER", None),
                    ("MYSQL_PASSWORD", None),
                    ("MYSQL_ROOT_PASSWORD", None),
                ],
                "MYSQL_ROOT_HOST,MYSQL_DATABASE,MYSQL_USER,MYSQL_PASSWORD,MYSQL_ROOT_PASSWORD",
            )
            .in_front()
            .file("a", File::Bytes(b"mysql-password-0a9c\n".to_vec()))
            .file("b", File::Bytes(b"mysql-root-password-e3f8\n".to_vec()))
            .var("MYSQL_PASSWORD_FILE", "{dir}/a")
            .var("MYSQL_ROOT_PASSWORD_FILE", "{dir}/b")
            .var("MYSQL_USER", "app"),
    ]);
    // Too large for one variable: the exec fails in both (E2BIG, 126).
    v.push(input("a 200 KiB file", Same).x_file(&vec![b'k'; 200 * 1024]));
    // A name the script does not call is not touched, even when its X_FILE is set.
    v.push(
        input("X_FILE of a name not listed", Same)
            .calls(&[("Y", None)], "Y")
            .var("Y", "y-value-4e")
            .x_file(b"file-value-7c1e\n"),
    );
    v
}

/// Runs `argv` with exactly `vars` (and `PATH`) in `dir`, under `timeout`.
fn run(
    dir: &Path,
    vars: &[(&str, Vec<u8>)],
    argv: &[OsString],
    limit: u32,
    stdin: Option<&[u8]>,
) -> (Outcome, Vec<u8>) {
    let mut cmd = Command::new("timeout");
    cmd.arg(limit.to_string())
        .args(argv)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, OsString::from_vec(v.clone()));
    }
    let mut child = cmd.spawn().expect("run");
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        // The reader may refuse without reading: a broken pipe is not an error here.
        let _ = pipe.write_all(bytes);
    }
    let out = child.wait_with_output().expect("run");
    let outcome = match out.status.code() {
        Some(0) => {
            let mut env = BTreeMap::new();
            for entry in out.stdout.split(|&b| b == 0).filter(|e| !e.is_empty()) {
                let at = entry.iter().position(|&b| b == b'=').expect("NAME=value");
                let name = &entry[..at];
                if [&b"PWD"[..], b"SHLVL", b"_"].contains(&name) {
                    continue;
                }
                env.insert(name.to_vec(), entry[at + 1..].to_vec());
            }
            Outcome::Ran(env)
        }
        Some(124) => Outcome::Hung,
        Some(code) => Outcome::Refused(code),
        None => panic!("killed by a signal"),
    };
    (outcome, out.stderr)
}

/// Sets up one input's files and runs both sides.
fn both(i: &Input) -> (Outcome, Outcome) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (path, f) in &i.files {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        match f {
            File::Bytes(b) => std::fs::write(&p, b).unwrap(),
            File::Dir => std::fs::create_dir(&p).unwrap(),
            File::Fifo => {
                nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap()
            }
            File::Link(target) => std::os::unix::fs::symlink(target, &p).unwrap(),
        }
    }
    let vars: Vec<(&str, Vec<u8>)> = i
        .vars
        .iter()
        .map(|(k, v)| {
            let v = v
                .split(|&b| b == b'{')
                .enumerate()
                .fold(Vec::new(), |mut acc, (n, part)| {
                    match (n, part.strip_prefix(b"dir}")) {
                        (0, _) => acc.extend_from_slice(part),
                        (_, Some(rest)) => {
                            acc.extend_from_slice(d.as_os_str().as_bytes());
                            acc.extend_from_slice(rest);
                        }
                        (_, None) => {
                            acc.push(b'{');
                            acc.extend_from_slice(part);
                        }
                    }
                    acc
                });
            (*k, v)
        })
        .collect();

    let mut script = FILE_ENV.to_owned();
    for (name, default) in &i.calls {
        match default {
            Some(d) => script.push_str(&format!("file_env '{name}' {d}\n")),
            None => script.push_str(&format!("file_env '{name}'\n")),
        }
    }
    script.push_str("exec env -0\n");
    let bash_argv: Vec<OsString> = vec!["bash".into(), "-c".into(), script.into()];
    // Only the bash side may hang (a FIFO): it gets a timeout it can reach.
    let (bash, _) = run(d, &vars, &bash_argv, 5, i.stdin);

    let mut argv: Vec<OsString> = vec![common::sesame_bin().into()];
    match i.manifest {
        Some(yaml) => {
            std::fs::write(d.join("manifest.yaml"), yaml).unwrap();
            argv.extend(["-m".into(), d.join("manifest.yaml").into()]);
        }
        None => argv.extend(["--file-env".into(), i.names.into()]),
    }
    argv.push("--".into());
    if i.in_front {
        argv.extend(bash_argv);
    } else {
        argv.extend(["env".into(), "-0".into()]);
    }
    let (sesame, stderr) = run(d, &vars, &argv, 60, i.stdin);
    // Nothing sesame printed holds a value: not a file's, not a variable's.
    let values = i
        .files
        .iter()
        .filter_map(|(_, f)| match f {
            File::Bytes(b) => Some(b.as_slice()),
            _ => None,
        })
        .chain(i.vars.iter().map(|(_, v)| v.as_slice()))
        .map(|v| v.trim_ascii())
        .filter(|v| v.len() >= 8 && !v.starts_with(b"/") && !v.starts_with(b"{dir}"));
    for (n, v) in values.enumerate() {
        for part in v.split(|&b| b == 0 || b == b'\n') {
            if part.len() >= 8 {
                assert!(
                    !stderr.windows(part.len()).any(|w| w == part),
                    "{}: value #{n} appeared on sesame's stderr",
                    i.name
                );
            }
        }
    }
    (bash, sesame)
}

/// The two environments without `names`, for "the rest is the same".
fn without(env: &BTreeMap<Vec<u8>, Vec<u8>>, names: &[&str]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut env = env.clone();
    for n in names {
        env.remove(n.as_bytes());
    }
    env
}

/// Asserts without printing either environment (they hold the planted values).
fn same_env(name: &str, a: &BTreeMap<Vec<u8>, Vec<u8>>, b: &BTreeMap<Vec<u8>, Vec<u8>>) {
    let differ: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert!(
        differ.is_empty(),
        "{name}: the program's environments differ in {differ:?}"
    );
}

#[test]
fn file_env_and_sesame_agree_or_differ_as_documented() {
    for i in cases() {
        let (bash, sesame) = both(&i);
        let name = i.name;
        match i.expect {
            Expect::Same => match (&bash, &sesame) {
                (Outcome::Ran(a), Outcome::Ran(b)) => same_env(name, a, b),
                (Outcome::Refused(a), Outcome::Refused(b)) if a == b => {}
                _ => panic!("{name}: bash {bash:?}, sesame {}", kind(&sesame)),
            },
            Expect::EmptyNotExported(x) => {
                let (a, b) = (bash.env(), sesame.env());
                assert_eq!(
                    a.get(x.as_bytes()).map(Vec::as_slice),
                    Some(&b""[..]),
                    "{name}"
                );
                assert!(!b.contains_key(x.as_bytes()), "{name}: {x} is set");
                same_env(name, &without(a, &[x]), b);
            }
            Expect::Default(x, d) => {
                let (a, b) = (bash.env(), sesame.env());
                assert_eq!(
                    a.get(x.as_bytes()).map(Vec::as_slice),
                    Some(d.as_bytes()),
                    "{name}"
                );
                assert!(!b.contains_key(x.as_bytes()), "{name}: {x} is set");
                same_env(name, &without(a, &[x]), b);
            }
            Expect::CrLf(x) => {
                let (a, b) = (bash.env(), sesame.env());
                let kept = &a[x.as_bytes()];
                assert_eq!(kept.last(), Some(&b'\r'), "{name}: bash keeps the last \\r");
                // bash dropped the final `\n`s only; sesame every trailing `\r\n`.
                let end = kept
                    .iter()
                    .rposition(|&c| c != b'\r' && c != b'\n')
                    .map_or(0, |i| i + 1);
                assert!(
                    b[x.as_bytes()] == kept[..end],
                    "{name}: sesame drops the \\r\\n"
                );
                same_env(name, &without(a, &[x]), &without(b, &[x]));
            }
            Expect::SesameRefuses(_, value) => {
                let got = &bash.env()[&b"X"[..]];
                assert!(got.as_slice() == value, "{name}: bash's value");
                assert!(
                    matches!(sesame, Outcome::Refused(78)),
                    "{name}: {}",
                    kind(&sesame)
                );
            }
            Expect::Fifo => {
                assert!(matches!(bash, Outcome::Hung), "{name}: bash {bash:?}");
                assert!(
                    matches!(sesame, Outcome::Refused(78)),
                    "{name}: {}",
                    kind(&sesame)
                );
            }
            Expect::GlobWider(x) => {
                let (a, b) = (bash.env(), sesame.env());
                let file_var = format!("{x}_FILE");
                assert!(a.contains_key(file_var.as_bytes()) && !a.contains_key(x.as_bytes()));
                assert!(b.contains_key(x.as_bytes()) && !b.contains_key(file_var.as_bytes()));
                same_env(name, &without(a, &[&file_var]), &without(b, &[x]));
            }
            Expect::BothRefuse => {
                assert!(matches!(bash, Outcome::Refused(1)), "{name}: bash {bash:?}");
                assert!(
                    matches!(sesame, Outcome::Refused(78)),
                    "{name}: {}",
                    kind(&sesame)
                );
            }
        }
    }
}

/// What sesame did, without its environment (which holds the values).
fn kind(o: &Outcome) -> String {
    match o {
        Outcome::Ran(_) => "ran the program".into(),
        other => format!("{other:?}"),
    }
}

#[test]
fn every_documented_difference_is_shown_by_a_case_and_in_the_guide() {
    let cases = cases();
    for (row, (case, ..)) in DIFFERENCES.iter().enumerate() {
        assert!(
            cases.iter().any(|i| i.expect.row() == Some(row)),
            "no case shows the difference {case:?}"
        );
    }
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/migrate-from-file-env/README.md"),
    )
    .unwrap();
    let rows: Vec<&str> = guide
        .lines()
        .skip_while(|l| !l.starts_with("| case | `file_env` | sesame"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(
        rows.len(),
        DIFFERENCES.len(),
        "the guide's table of differences and this test's have the same rows"
    );
    for ((case, bash, sesame), line) in DIFFERENCES.iter().zip(rows) {
        let prefix = format!("| {case} | {bash} | {sesame} |");
        assert!(
            line.starts_with(&prefix),
            "guide row {line:?} is not {prefix:?}"
        );
    }
}

/// The issue's cases, in every mode: a 220 KB CA bundle in `SSL_CERT_FILE` (expanded, it
/// was too large to exec), IRSA's token file, an `ENV_FILE` (expanded, `ENV` is refused)
/// and Grafana's own `__FILE` reach the program as they were; only the listed name is
/// expanded, and `check` reports only it.
#[test]
fn unrelated_file_variables_reach_the_program_unchanged_in_every_mode() {
    let mut c = common::Case::new();
    let bundle = c.file("ca.pem", &vec![b'c'; 220 * 1024]);
    let pg = c.file("pg", b"pg-password-5d7a-planted\n");
    c.plant("pg-password-5d7a-planted");
    let grafana = c.file("gf", b"grafana-admin-9e1c-planted\n");
    c.plant("grafana-admin-9e1c-planted");
    let unrelated = [
        ("SSL_CERT_FILE", bundle.to_str().unwrap()),
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "/var/run/secrets/eks.amazonaws.com/token",
        ),
        ("ENV_FILE", "/app/.env"),
        (
            "GF_SECURITY_ADMIN_PASSWORD__FILE",
            grafana.to_str().unwrap(),
        ),
        ("POSTGRESQL_FILE", "/not/a/listed/name"),
    ];
    for (k, v) in unrelated {
        c.env(k, v);
    }
    c.env("POSTGRES_PASSWORD_FILE", pg.as_os_str());
    c.child_prints_secrets();
    let words = |args: &[&str]| args.iter().map(OsString::from).collect::<Vec<_>>();
    for mode in [&["--no-init"][..], &["--init"], &["--init", "--watch"]] {
        let mut args = mode.to_vec();
        args.extend(["--file-env", "POSTGRES_PASSWORD", "--", "env"]);
        let r = c.run_raw(&words(&args));
        r.code(0);
        let lines: Vec<&str> = r.stdout.lines().collect();
        for (k, v) in unrelated {
            let entry = format!("{k}={v}");
            assert!(lines.contains(&entry.as_str()), "{mode:?}: {k} changed");
        }
        for gone in [
            "SSL_CERT=",
            "AWS_WEB_IDENTITY_TOKEN=",
            "ENV=",
            "POSTGRES_PASSWORD_FILE=",
        ] {
            assert!(
                !lines.iter().any(|l| l.starts_with(gone)),
                "{mode:?}: {gone} in the program's environment"
            );
        }
        assert!(
            lines.contains(&"POSTGRES_PASSWORD=pg-password-5d7a-planted"),
            "{mode:?}: POSTGRES_PASSWORD not expanded"
        );
    }
    let r = c.run_raw(&words(&["check", "--file-env", "POSTGRES_*"]));
    r.code(0).stdout_has("POSTGRES_PASSWORD");
    for name in ["SSL_CERT", "AWS_WEB", "ENV", "GF_", "POSTGRESQL"] {
        assert!(
            !r.stdout.contains(name),
            "check reports {name}:\n{}",
            r.stdout
        );
    }
}

/// A listed name that the manifest also has is the manifest's: its rules apply.
#[test]
fn a_listed_name_the_manifest_covers_keeps_the_manifest_rules() {
    let mut c = common::Case::new();
    c.manifest("version: 1\nsecrets:\n  POSTGRES_PASSWORD: {min_length: 32}\n");
    let pg = c.file("pg", b"short-planted\n");
    c.plant("short-planted");
    c.env("POSTGRES_PASSWORD_FILE", pg.as_os_str());
    c.run(&["--file-env", "POSTGRES_*", "--", "true"])
        .code(78)
        .stderr_has("POSTGRES_PASSWORD: too short");
}
