//! `--user USER[:GROUP]`: who the command runs as, and the privilege drop that gets there.
//!
//! sesame reads secrets as root, then becomes an unprivileged user before the command
//! starts (SPEC 5.3). This module does the three steps of that, each a separate stage:
//!
//! 1. [`UserSpec`] is what the user typed, parsed strictly: ids are ASCII digits only
//!    (`-1`, `+8`, ` 7` are errors, as is `4294967295`, which is `(uid_t)-1`), names are
//!    what `useradd` and busybox `adduser` accept.
//! 2. [`resolve`] / [`resolve_system`] turn it into an [`Identity`] using the
//!    container's own `/etc/passwd` and `/etc/group`, read directly: sesame is a static
//!    binary, so there is no NSS and `getpwnam(3)` is not an option.
//! 3. [`become_user`] makes the process that identity for good, then checks that root
//!    cannot be regained.
//!
//! Everything fails closed: an unknown name, a file that cannot be read, a syscall
//! that fails or a check that does not hold is an error, and the caller must not run
//! the command. Nothing here falls back to "stay root".

use std::fmt;

use std::path::Path;
use std::str::FromStr;

use nix::unistd::{
    Gid, Uid, getegid, geteuid, getgroups, getresgid, getresuid, setgid, setgroups, setuid,
};

/// What the user typed after `--user` (or in `SESAME_USER`), parsed strictly but not
/// yet looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    /// The part before `:`.
    pub user: Ident,
    /// The part after `:`, when there is one.
    pub group: Option<Ident>,
}

/// One side of a [`UserSpec`]: a numeric id or a name to look up.
///
/// A string of ASCII digits is always an id, never a name (gosu's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident {
    /// A numeric id, used as is; never `4294967295` (`(uid_t)-1`).
    Id(u32),
    /// A name to look up in `/etc/passwd` or `/etc/group`.
    Name(String),
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ident::Id(id) => write!(f, "{id}"),
            Ident::Name(name) => f.write_str(name),
        }
    }
}

impl fmt::Display for UserSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.group {
            Some(group) => write!(f, "{}:{group}", self.user),
            None => write!(f, "{}", self.user),
        }
    }
}

impl FromStr for UserSpec {
    type Err = String;

    /// Parses `USER` or `USER:GROUP`. The message names the problem, e.g.
    /// `"-1" is not a user name or a numeric id`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (user, group) = match s.split_once(':') {
            None => (s, None),
            Some((_, group)) if group.contains(':') => {
                return Err(format!(
                    "{s:?} has more than one ':' (expected USER or USER:GROUP)"
                ));
            }
            Some((user, group)) => (user, Some(group)),
        };
        if s.is_empty() {
            return Err("the user is empty (expected USER or USER:GROUP)".to_owned());
        }
        if user.is_empty() {
            return Err(format!("{s:?} has an empty user before ':'"));
        }
        if group == Some("") {
            return Err(format!("{s:?} has an empty group after ':'"));
        }
        Ok(UserSpec {
            user: parse_ident(user, "user")?,
            group: group.map(|g| parse_ident(g, "group")).transpose()?,
        })
    }
}

/// `what` is "user" or "group", for the message.
fn parse_ident(s: &str, what: &str) -> Result<Ident, String> {
    match numeric_id(s) {
        Some(Ok(id)) => Ok(Ident::Id(id)),
        Some(Err(reason)) => Err(format!("{s:?} is not a usable {what} id: {reason}")),
        None if is_valid_name(s) => Ok(Ident::Name(s.to_owned())),
        None => Err(format!("{s:?} is not a {what} name or a numeric id")),
    }
}

/// `None` when `s` is not all ASCII digits (so it is not an id at all); otherwise the id,
/// or why those digits are not a usable id.
fn numeric_id(s: &str) -> Option<Result<u32, &'static str>> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match s.parse::<u32>() {
        // setuid(2)/setresuid(2) read (uid_t)-1 as "leave unchanged": never a real id.
        Ok(u32::MAX) => Err("it is (uid_t)-1, which setuid(2) reads as \"no change\""),
        Ok(id) => Ok(id),
        Err(_) => Err("out of range, ids go up to 4294967294"),
    })
}

/// The names `useradd` (shadow) and busybox `adduser` accept: `[A-Za-z0-9._-]`, not
/// starting with `-`, optionally ending with `$` (machine accounts), not `.` or `..`.
/// Anything else (whitespace, `:`, `+`, non-ASCII letters) cannot be in a well-formed
/// passwd file, so it is rejected before any lookup.
fn is_valid_name(s: &str) -> bool {
    let body = s.strip_suffix('$').unwrap_or(s);
    let mut bytes = body.bytes();
    let first_ok =
        matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
    first_ok
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && s != "."
        && s != ".."
}

/// The identity to become, resolved from the container's own passwd and group files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Real, effective and saved user id after the drop.
    pub uid: u32,
    /// Real, effective and saved group id after the drop.
    pub gid: u32,
    /// Supplementary groups: every group in `/etc/group` whose member list names the
    /// user, in file order, without duplicates. Empty for a uid without a passwd entry,
    /// and when the group was given explicitly (`USER:GROUP`), as gosu does.
    pub groups: Vec<u32>,
    /// The value for the child's `HOME`: the passwd entry's home directory, or `/` when
    /// there is no entry (as gosu does) or its home field is empty (as login(1) does;
    /// gosu sets an empty `HOME` then, which makes `~` relative).
    pub home: String,
    /// The user's name from `/etc/passwd`, when it has an entry.
    pub name: Option<String>,
}

/// One well-formed `/etc/passwd` line (`name:passwd:uid:gid:gecos:home:shell`).
#[derive(Clone, Copy)]
struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

/// One well-formed `/etc/group` line (`name:passwd:gid:member,member,...`).
struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: &'a str,
}

/// The fields of each data line with exactly `n` fields; comments, blank lines and
/// lines with another field count are skipped.
///
/// Each line is first trimmed of ASCII whitespace at both ends, as gosu and runc
/// (moby/sys/user) do: a member list ending in a space or a tab must not silently lose
/// its last member's supplementary group (measured against gosu 1.14 in
/// tests/differential.rs). A CR before the LF was already dropped by `str::lines`.
fn records(text: &str, n: usize) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(|line| line.trim_matches(|c: char| c.is_ascii_whitespace()))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(move |fields| fields.len() == n && !fields[0].is_empty())
}

/// A usable id from a passwd or group field; `None` skips the line.
fn field_id(s: &str) -> Option<u32> {
    numeric_id(s)?.ok()
}

fn passwd_entries(passwd: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    records(passwd, 7).filter_map(|f| {
        Some(PasswdEntry {
            name: f[0],
            uid: field_id(f[2])?,
            gid: field_id(f[3])?,
            home: f[5],
        })
    })
}

fn group_entries(group: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    records(group, 4).filter_map(|f| {
        Some(GroupEntry {
            name: f[0],
            gid: field_id(f[2])?,
            members: f[3],
        })
    })
}

/// Why `name` has no entry. A line that names it but is malformed (gosu reads
/// `app:x:1000` with the missing gid as 0 and `+app::::::` as uid 0) is skipped, and
/// the message says so rather than "not in /etc/passwd".
fn unknown_user(name: &str, passwd: &str) -> String {
    let prefix = format!("{name}:");
    let on_a_bad_line = passwd
        .lines()
        .map(|l| l.trim_matches(|c: char| c.is_ascii_whitespace()))
        .any(|l| l.starts_with(&prefix));
    if on_a_bad_line {
        format!(
            "unknown user {name:?}: its /etc/passwd line is malformed (expected \
             name:password:uid:gid:gecos:home:shell with numeric ids), so it is skipped"
        )
    } else {
        format!("unknown user {name:?}: not in /etc/passwd")
    }
}

/// The kernel's limit on supplementary groups (`NGROUPS_MAX`, linux/limits.h).
const NGROUPS_MAX: usize = 65536;

/// Resolves `spec` against the text of a passwd and a group file. Returns the identity
/// and the warnings to log (e.g. a numeric uid without a passwd entry).
///
/// - A user name must have a passwd entry; a numeric uid may not have one.
/// - Without a group: the passwd entry's primary group, or for a uid without an entry
///   the gid of the same number, with a warning (never gid 0 by accident).
/// - A group name must have a group entry; a numeric gid is used as is.
/// - Malformed lines are skipped; the first matching entry wins.
pub fn resolve(
    spec: &UserSpec,
    passwd: &str,
    group: &str,
) -> Result<(Identity, Vec<String>), String> {
    let mut warnings = Vec::new();
    let (uid, entry) = match &spec.user {
        Ident::Name(name) => {
            let entry = passwd_entries(passwd)
                .find(|e| e.name == name)
                .ok_or_else(|| unknown_user(name, passwd))?;
            (entry.uid, Some(entry))
        }
        Ident::Id(uid) => (*uid, passwd_entries(passwd).find(|e| e.uid == *uid)),
    };
    // Root is run only when asked for as root (`root`, `0`): another name with uid 0
    // (a `toor` alias, an `app` line edited to uid 0) would run the command as root
    // while the operator reads `--user app`.
    if let Ident::Name(name) = &spec.user
        && uid == 0
        && name != "root"
    {
        return Err(format!(
            "user {name:?} has uid 0 in /etc/passwd: sesame runs the command as root only \
             when asked for as root (--user root or --user 0)"
        ));
    }
    let gid = match (&spec.group, entry) {
        (Some(Ident::Id(gid)), _) => *gid,
        (Some(Ident::Name(name)), _) => group_entries(group)
            .find(|g| g.name == name)
            .map(|g| g.gid)
            .ok_or_else(|| format!("unknown group {name:?}: not in /etc/group"))?,
        (None, Some(entry)) => entry.gid,
        (None, None) => {
            warnings.push(format!(
                "uid {uid} has no entry in /etc/passwd: using gid {uid}, HOME=/ \
                 and no supplementary groups (give --user {uid}:GID to choose the group)"
            ));
            uid
        }
    };
    // With an explicit group the user gets exactly that group and no supplementary
    // ones, as gosu, Docker and runc do: `app:staff` asks for one group, and keeping
    // app's other memberships would grant access the operator did not name.
    // Duplicates are found with a set, not by searching the list: a user in 100,000
    // groups took minutes. More than the kernel's NGROUPS_MAX is refused here, as
    // setgroups(2) would refuse it.
    let mut groups = Vec::new();
    if let (Some(entry), None) = (entry, &spec.group) {
        let mut seen = std::collections::HashSet::new();
        for g in group_entries(group) {
            if g.members.split(',').any(|m| m == entry.name) && seen.insert(g.gid) {
                if groups.len() == NGROUPS_MAX {
                    return Err(format!(
                        "user {:?} is in more than {NGROUPS_MAX} groups in /etc/group, \
                         more than setgroups(2) takes",
                        entry.name
                    ));
                }
                groups.push(g.gid);
            }
        }
    }
    let home = match entry {
        Some(e) if !e.home.is_empty() => e.home,
        _ => "/",
    };
    let identity = Identity {
        uid,
        gid,
        groups,
        home: home.to_owned(),
        name: entry.map(|e| e.name.to_owned()),
    };
    Ok((identity, warnings))
}

/// Reads `/etc/passwd` and `/etc/group` and [`resolve`]s `spec` against them.
///
/// A missing `/etc/group` counts as empty; a missing `/etc/passwd` is an error only
/// when a user name must be looked up (a numeric uid then has no entry). Any other
/// read error is an error. Lines that are not UTF-8 are skipped like other malformed
/// lines.
pub fn resolve_system(spec: &UserSpec) -> Result<(Identity, Vec<String>), String> {
    resolve_files(spec, Path::new("/etc/passwd"), Path::new("/etc/group"))
}

fn resolve_files(
    spec: &UserSpec,
    passwd_path: &Path,
    group_path: &Path,
) -> Result<(Identity, Vec<String>), String> {
    let passwd = read_table(passwd_path)?;
    let group = read_table(group_path)?;
    if let (None, Ident::Name(name)) = (&passwd, &spec.user) {
        return Err(format!(
            "unknown user {name:?}: {} does not exist",
            crate::shown::path(passwd_path)
        ));
    }
    if let (None, Some(Ident::Name(name))) = (&group, &spec.group) {
        return Err(format!(
            "unknown group {name:?}: {} does not exist",
            crate::shown::path(group_path)
        ));
    }
    resolve(
        spec,
        passwd.as_deref().unwrap_or(""),
        group.as_deref().unwrap_or(""),
    )
}

/// The largest `/etc/passwd` or `/etc/group` read: a hundred thousand accounts fit.
const MAX_TABLE_SIZE: u64 = 16 << 20;

/// The file's UTF-8 lines, `None` when it does not exist. Read like a secret file
/// ([`crate::read`]): a regular file only (a FIFO there would block sesame forever,
/// `/dev/zero` would never end), opened without blocking, at most [`MAX_TABLE_SIZE`].
fn read_table(path: &Path) -> Result<Option<String>, String> {
    match crate::read::read_capped(path, MAX_TABLE_SIZE) {
        Ok((bytes, _)) => Ok(Some(
            bytes
                .split(|&b| b == b'\n')
                .filter_map(|line| std::str::from_utf8(line).ok())
                .collect::<Vec<_>>()
                .join("\n"),
        )),
        Err(crate::read::ReadError::NotFound) => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", crate::shown::path(path))),
    }
}

/// Why [`become_user`] did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropError {
    /// sesame is not root, so it cannot change user (SPEC 5.3: exit 77).
    NotRoot {
        /// The effective uid sesame runs as.
        euid: u32,
    },
    /// A syscall failed or a check after the drop did not hold. The process's
    /// credentials are then in an unknown state: the caller must exit, never exec.
    Failed(String),
}

impl fmt::Display for DropError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropError::NotRoot { euid } => write!(
                f,
                "cannot change user: sesame runs as uid {euid}, not root; run the container \
                 as root, or leave out --user/SESAME_USER and let the runtime set the user"
            ),
            DropError::Failed(reason) => write!(f, "dropping privileges failed: {reason}"),
        }
    }
}

impl std::error::Error for DropError {}

/// Becomes `id` for good: supplementary groups, then group, then user, then proves that
/// root cannot be regained. Call it after every secret is read and before exec.
///
/// Uses the libc wrappers, not raw syscalls: Linux credentials are per thread, and
/// glibc and musl apply each change to every thread of the process.
pub fn become_user(id: &Identity) -> Result<(), DropError> {
    let euid = geteuid();
    if euid.as_raw() != 0 {
        return Err(DropError::NotRoot {
            euid: euid.as_raw(),
        });
    }
    let failed = |call: String, e: nix::Error| DropError::Failed(format!("{call}: {e}"));

    // 1. Supplementary groups first. setgroups(2) needs CAP_SETGID, which setuid(2)
    //    below takes away; and root's own groups (0 and whatever the runtime added) must
    //    not leak into the child. An empty list clears them.
    let groups: Vec<Gid> = id.groups.iter().map(|&g| Gid::from_raw(g)).collect();
    setgroups(&groups).map_err(|e| failed(format!("setgroups ({} groups)", groups.len()), e))?;

    // 2. Then the group. POSIX setgid(): with appropriate privileges (Linux: CAP_SETGID)
    //    it sets the real, effective and saved set-group-ID; without them it may only
    //    set the effective gid to the real or saved one. So it must come while we still
    //    hold the capability, i.e. before setuid.
    setgid(Gid::from_raw(id.gid)).map_err(|e| failed(format!("setgid({})", id.gid), e))?;

    // 3. The user last. POSIX setuid(): with privilege (CAP_SETUID) it sets the real,
    //    effective and saved set-user-ID; and by capabilities(7), when every uid goes
    //    from 0 to non-zero the kernel clears the permitted, effective and ambient
    //    capability sets. After this no step above could be done any more.
    setuid(Uid::from_raw(id.uid)).map_err(|e| failed(format!("setuid({})", id.uid), e))?;

    verify(id).map_err(DropError::Failed)
}

/// Sets `no_new_privs` (prctl(2) `PR_SET_NO_NEW_PRIVS`) after [`become_user`]: from
/// then on execve(2) grants nothing, neither a setuid or setgid bit nor file
/// capabilities, to this process and every descendant, and it cannot be unset. So a
/// setuid-root binary in the image (`su`, `sudo`, an old `ping`) cannot give the
/// command root again. gosu does not do this; the manifest's `no_new_privs: false`
/// leaves it out for images whose program needs such a helper.
pub fn forbid_new_privileges() -> Result<(), DropError> {
    nix::sys::prctl::set_no_new_privs()
        .map_err(|e| DropError::Failed(format!("prctl(PR_SET_NO_NEW_PRIVS): {e}")))
}

/// The checks after the drop: every credential is the target, and root is out of reach.
fn verify(id: &Identity) -> Result<(), String> {
    let r = getresuid().map_err(|e| format!("getresuid: {e}"))?;
    let uids = [r.real, r.effective, r.saved].map(Uid::as_raw);
    if uids != [id.uid; 3] {
        return Err(format!(
            "real/effective/saved uid are {}/{}/{}, expected {}",
            uids[0], uids[1], uids[2], id.uid
        ));
    }
    let r = getresgid().map_err(|e| format!("getresgid: {e}"))?;
    let gids = [r.real, r.effective, r.saved].map(Gid::as_raw);
    if gids != [id.gid; 3] {
        return Err(format!(
            "real/effective/saved gid are {}/{}/{}, expected {}",
            gids[0], gids[1], gids[2], id.gid
        ));
    }
    let mut have: Vec<u32> = getgroups()
        .map_err(|e| format!("getgroups: {e}"))?
        .into_iter()
        .map(Gid::as_raw)
        .collect();
    let mut want = id.groups.clone();
    for list in [&mut have, &mut want] {
        list.sort_unstable();
        list.dedup();
    }
    if have != want {
        return Err(format!(
            "supplementary groups are {have:?}, expected {want:?}"
        ));
    }
    if id.uid != 0 {
        // The saved set-user-ID is what lets a process switch back; with it gone and no
        // CAP_SETUID, the kernel must refuse this.
        if setuid(Uid::from_raw(0)).is_ok() {
            return Err("setuid(0) succeeded after the drop: root could be regained".to_owned());
        }
        if id.gid != 0 && setgid(Gid::from_raw(0)).is_ok() {
            return Err(format!(
                "setgid(0) succeeded after the drop (egid now {}): root's group could be regained",
                getegid()
            ));
        }
        no_capabilities_left()?;
    }
    Ok(())
}

/// A securebits setting (SECBIT_KEEP_CAPS, SECBIT_NO_SETUID_FIXUP) can keep capabilities
/// across setuid, and a permitted CAP_SETUID would let the process raise it again. Read
/// from /proc; when /proc is not mounted the setuid(0) check above is what remains.
fn no_capabilities_left() -> Result<(), String> {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Ok(());
    };
    for line in status.lines() {
        for key in ["CapPrm:", "CapEff:", "CapAmb:"] {
            if let Some(value) = line.strip_prefix(key) {
                let value = value.trim();
                if u64::from_str_radix(value, 16) != Ok(0) {
                    return Err(format!("capabilities survived the drop ({key} {value})"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::{ForkResult, fork};

    fn spec(s: &str) -> UserSpec {
        s.parse()
            .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn name(s: &str) -> Ident {
        Ident::Name(s.to_owned())
    }

    #[test]
    fn good_specs_parse() {
        let cases = [
            ("nobody", name("nobody"), None),
            ("65534", Ident::Id(65534), None),
            ("nobody:nogroup", name("nobody"), Some(name("nogroup"))),
            ("1000:1000", Ident::Id(1000), Some(Ident::Id(1000))),
            ("0", Ident::Id(0), None),
            ("root", name("root"), None),
            ("root:0", name("root"), Some(Ident::Id(0))),
            ("4294967294", Ident::Id(4294967294), None),
            ("007", Ident::Id(7), None),
            ("www-data", name("www-data"), None),
            ("_apt", name("_apt"), None),
            ("a.b_c-d", name("a.b_c-d"), None),
            ("host$", name("host$"), None),
            ("1a", name("1a"), None),
            ("app:2000", name("app"), Some(Ident::Id(2000))),
        ];
        for (input, user, group) in cases {
            assert_eq!(spec(input), UserSpec { user, group }, "{input:?}");
            // Display gives back something that parses to the same spec.
            assert_eq!(spec(&spec(input).to_string()), spec(input), "{input:?}");
        }
    }

    #[test]
    fn bad_specs_are_errors() {
        let cases = [
            "-1",
            "+8",
            " 7",
            "7 ",
            "1:",
            ":1",
            ":",
            "a:b:c",
            "1::2",
            "4294967296",
            "4294967295",
            "99999999999999999999",
            "ｕｓｅｒ",
            "",
            "a b",
            "tab\t",
            "-user",
            "$",
            "a$b",
            "a$$",
            ".",
            "..",
            "nobody:-1",
            "1:+8",
            "1:4294967295",
            "nobody:ｇｒｏｕｐ",
            "user\n",
            "١٢",
        ];
        for input in cases {
            assert!(
                input.parse::<UserSpec>().is_err(),
                "{input:?} should be rejected"
            );
        }
    }

    #[test]
    fn error_messages_name_the_problem() {
        let err = |s: &str| s.parse::<UserSpec>().unwrap_err();
        assert_eq!(err("-1"), r#""-1" is not a user name or a numeric id"#);
        assert_eq!(err("+8"), r#""+8" is not a user name or a numeric id"#);
        assert_eq!(err(" 7"), r#"" 7" is not a user name or a numeric id"#);
        assert_eq!(err("app:-1"), r#""-1" is not a group name or a numeric id"#);
        assert_eq!(err("1:"), r#""1:" has an empty group after ':'"#);
        assert_eq!(err(":1"), r#"":1" has an empty user before ':'"#);
        assert_eq!(
            err("a:b:c"),
            r#""a:b:c" has more than one ':' (expected USER or USER:GROUP)"#
        );
        assert_eq!(err(""), "the user is empty (expected USER or USER:GROUP)");
        assert!(
            err("4294967296").contains("out of range"),
            "{}",
            err("4294967296")
        );
        assert!(
            err("4294967295").contains("(uid_t)-1"),
            "{}",
            err("4294967295")
        );
        assert!(
            err("1:4294967296").contains("group id"),
            "{}",
            err("1:4294967296")
        );
    }

    const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:The App:/home/app:/bin/sh
app2:x:1001:1001::/home/app2:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
nohome:x:1500:1500:::/bin/sh
";

    const GROUP: &str = "\
root:x:0:
daemon:x:1:
app:x:1000:
app2:x:1001:
audio:x:29:app2,app
video:x:44:app
staff:x:50:
wheel:x:10:root,app2
nogroup:x:65534:
sharedapp:x:3000:app
dup-gid:x:44:app
";

    fn ok(s: &str) -> (Identity, Vec<String>) {
        resolve(&spec(s), PASSWD, GROUP).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn named_user_gets_primary_group_home_and_member_groups() {
        let (id, warnings) = ok("app");
        assert_eq!(
            id,
            Identity {
                uid: 1000,
                gid: 1000,
                groups: vec![29, 44, 3000],
                home: "/home/app".into(),
                name: Some("app".into()),
            }
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn member_lists_match_whole_names_only() {
        // "app" must not pick up groups listing "app2", and vice versa.
        assert_eq!(ok("app2").0.groups, vec![29, 10]);
        assert_eq!(ok("nobody").0.groups, Vec::<u32>::new());
        assert_eq!(ok("root").0.groups, vec![10]);
    }

    #[test]
    fn crlf_and_spaces_around_a_line_are_trimmed_as_gosu_does() {
        let passwd = "app:x:1000:1000::/home/app:/bin/sh\r\n";
        // The last member of a CRLF line and of a line ending in a space still counts;
        // a space inside the member list is part of the name (gosu 1.14 does the same).
        let group = "a:x:29:app\r\n b:x:44:root,app \nc:x:45: app\n";
        let (id, _) = resolve(&spec("app"), passwd, group).unwrap();
        assert_eq!((id.uid, id.home.as_str()), (1000, "/home/app"));
        assert_eq!(id.groups, vec![29, 44]);
        assert_eq!(resolve(&spec("app:b"), passwd, group).unwrap().0.gid, 44);
    }

    #[test]
    fn explicit_group_by_name_and_by_number() {
        let (id, warnings) = ok("app:staff");
        assert_eq!((id.uid, id.gid), (1000, 50));
        assert_eq!(
            id.groups,
            Vec::<u32>::new(),
            "an explicit group replaces the memberships"
        );
        assert!(warnings.is_empty());

        let (id, _) = ok("app:44");
        assert_eq!(id.gid, 44);

        // A numeric gid without a group entry is used as is.
        let (id, warnings) = ok("nobody:4242");
        assert_eq!((id.uid, id.gid), (65534, 4242));
        assert!(warnings.is_empty());
    }

    #[test]
    fn numeric_uid_with_an_entry_uses_that_entry() {
        let (id, warnings) = ok("1000");
        assert_eq!(id, ok("app").0);
        assert!(warnings.is_empty());
        assert_eq!(ok("0").0.gid, 0);
    }

    #[test]
    fn numeric_uid_without_entry_gets_same_gid_root_home_and_a_warning() {
        let (id, warnings) = ok("4321");
        assert_eq!(
            id,
            Identity {
                uid: 4321,
                gid: 4321,
                groups: vec![],
                home: "/".into(),
                name: None,
            }
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("uid 4321") && warnings[0].contains("gid 4321"));

        // With the group given there is nothing to guess, so no warning.
        let (id, warnings) = ok("4321:staff");
        assert_eq!((id.uid, id.gid, id.home.as_str()), (4321, 50, "/"));
        assert!(warnings.is_empty());
        let (id, warnings) = ok("4321:4322");
        assert_eq!((id.uid, id.gid), (4321, 4322));
        assert!(warnings.is_empty());
    }

    #[test]
    fn empty_home_field_means_root_directory() {
        assert_eq!(ok("nohome").0.home, "/");
    }

    #[test]
    fn more_groups_than_the_kernel_takes_is_an_error_found_quickly() {
        let mut group = String::new();
        for i in 0..=NGROUPS_MAX {
            group.push_str(&format!("g{i}:x:{}:app\n", 10_000 + i));
        }
        let e = resolve(&spec("app"), PASSWD, &group).unwrap_err();
        assert!(e.contains("more than 65536 groups"), "{e}");
        // Exactly the limit, with every group listed twice, is fine.
        let mut group = String::new();
        for i in 0..NGROUPS_MAX {
            group.push_str(&format!(
                "g{i}:x:{}:app\ng{i}b:x:{}:app\n",
                10_000 + i,
                10_000 + i
            ));
        }
        let (id, _) = resolve(&spec("app"), PASSWD, &group).unwrap();
        assert_eq!(id.groups.len(), NGROUPS_MAX);
    }

    #[test]
    fn only_root_by_name_or_by_number_gives_uid_0() {
        let passwd =
            "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:0:1000::/app:/bin/sh\n";
        for s in ["root", "0", "root:app", "0:0"] {
            let (id, _) = resolve(&spec(s), passwd, GROUP).unwrap();
            assert_eq!(id.uid, 0, "{s}");
        }
        for s in ["toor", "app", "app:staff"] {
            let e = resolve(&spec(s), passwd, GROUP).unwrap_err();
            assert!(e.contains("has uid 0 in /etc/passwd"), "{s}: {e}");
        }
    }

    #[test]
    fn unknown_user_or_group_is_an_error() {
        let err = |s: &str| resolve(&spec(s), PASSWD, GROUP).unwrap_err();
        assert_eq!(err("ghost"), r#"unknown user "ghost": not in /etc/passwd"#);
        assert_eq!(
            err("app:ghosts"),
            r#"unknown group "ghosts": not in /etc/group"#
        );
        assert_eq!(
            err("1000:ghosts"),
            r#"unknown group "ghosts": not in /etc/group"#
        );
        // A user name that only exists as a group is still unknown.
        assert!(resolve(&spec("audio"), PASSWD, GROUP).is_err());
        // Nothing to look in: names fail, numbers still work.
        assert!(resolve(&spec("root"), "", "").is_err());
        assert!(resolve(&spec("0:0"), "", "").is_ok());
    }

    #[test]
    fn malformed_lines_are_skipped_and_the_first_match_wins() {
        let passwd = "\
# a comment with app:x:1:1::/:/bin/sh
\n   \n\
app:x:1000:1000:/short:/bin/sh
app:x:-1:1000::/minus:/bin/sh
app:x:+5:1000::/plus:/bin/sh
app:x: 5:1000::/space:/bin/sh
app:x:4294967295:1000::/max:/bin/sh
app:x:4294967296:1000::/overflow:/bin/sh
app:x:5:abc::/badgid:/bin/sh
app:x:5:6::/toomany:/bin/sh:extra
:x:7:7::/noname:/bin/sh
+app::::::
app:x:2000:2000::/home/first:/bin/sh\r
app:x:3000:3000::/home/second:/bin/sh
";
        let group = "\
# comment
staff:x:notanumber:app
staff:x:50:app:extra
staff:x:51
staff:x:52:app
staff:x:53:app
";
        let (id, _) = resolve(&spec("app:staff"), passwd, group).unwrap();
        assert_eq!((id.uid, id.gid), (2000, 52));
        assert_eq!(id.home, "/home/first");
        assert_eq!(id.groups, Vec::<u32>::new());
        let (id, _) = resolve(&spec("app"), passwd, group).unwrap();
        assert_eq!(id.groups, vec![52, 53]);
        // The uid-7 line without a name is not an entry.
        let (id, warnings) = resolve(&spec("7"), passwd, group).unwrap();
        assert_eq!((id.name, warnings.len()), (None, 1));
        // Garbage never panics.
        for junk in [
            "::::::",
            ":::",
            "\u{0}:\u{0}",
            "a:b:c:d:e:f:g",
            "💥:x:1:1::/:/",
        ] {
            let _ = resolve(&spec("app"), junk, junk);
            let _ = resolve(&spec("1:1"), junk, junk);
        }
    }

    #[test]
    fn resolve_from_files_missing_or_not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let passwd = dir.path().join("passwd");
        let group = dir.path().join("group");

        // No passwd file: numeric ids still work, names are an error.
        let (id, warnings) = resolve_files(&spec("1234"), &passwd, &group).unwrap();
        assert_eq!((id.uid, id.gid, warnings.len()), (1234, 1234, 1));
        let err = resolve_files(&spec("app"), &passwd, &group).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");

        // No group file: empty, except when a group name must be found.
        std::fs::write(
            &passwd,
            b"bad\xffline:x:9:9::/:/\napp:x:1000:1000::/home/app:/\n",
        )
        .unwrap();
        let (id, _) = resolve_files(&spec("app"), &passwd, &group).unwrap();
        assert_eq!((id.gid, id.groups.len()), (1000, 0));
        let err = resolve_files(&spec("app:staff"), &passwd, &group).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");

        std::fs::write(&group, b"staff:x:50:app\n\xfe:x:51:app\n").unwrap();
        let (id, _) = resolve_files(&spec("app:staff"), &passwd, &group).unwrap();
        assert_eq!((id.gid, id.groups), (50, vec![]));
        let (id, _) = resolve_files(&spec("app"), &passwd, &group).unwrap();
        assert_eq!(id.groups, vec![50]);

        // Unreadable is an error even for a numeric uid (a directory here).
        let err = resolve_files(&spec("1234"), dir.path(), &group).unwrap_err();
        assert!(err.starts_with("cannot read"), "{err}");
    }

    #[test]
    fn resolve_system_reads_etc_passwd() {
        let (id, _) = resolve_system(&spec("root")).unwrap();
        assert_eq!((id.uid, id.name.as_deref()), (0, Some("root")));
    }

    #[test]
    fn drop_error_messages() {
        let msg = DropError::NotRoot { euid: 1000 }.to_string();
        assert!(
            msg.contains("uid 1000") && msg.contains("not root"),
            "{msg}"
        );
        let msg = DropError::Failed("setgid(5): EPERM".into()).to_string();
        assert_eq!(msg, "dropping privileges failed: setgid(5): EPERM");
    }

    // --- The real drop, always in a forked child: the test process keeps its root. ---

    /// Runs `f` in a forked child and returns its exit code. The child never returns
    /// into the test harness: a panic becomes exit code 101.
    fn in_child(f: impl FnOnce() -> i32) -> i32 {
        // SAFETY: the child runs only `f` and then `_exit`s. glibc resets its malloc
        // locks in the child, so allocating there is fine even though other test threads
        // exist in the parent.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
                // SAFETY: _exit ends the child without running the parent's atexit
                // handlers or unwinding into the harness.
                unsafe { nix::libc::_exit(code) }
            }
            ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
                WaitStatus::Exited(_, code) => code,
                other => panic!("child ended with {other:?}"),
            },
        }
    }

    fn running_as_root() -> bool {
        let root = geteuid().as_raw() == 0;
        if !root {
            eprintln!("skipped: the privilege drop tests need root");
        }
        root
    }

    fn identity(uid: u32, gid: u32, groups: &[u32]) -> Identity {
        Identity {
            uid,
            gid,
            groups: groups.to_vec(),
            home: "/".into(),
            name: None,
        }
    }

    #[test]
    fn become_user_drops_for_good() {
        if !running_as_root() {
            return;
        }
        let code = in_child(|| {
            if become_user(&identity(4321, 5432, &[7001, 7000, 7001])).is_err() {
                return 10;
            }
            let u = getresuid().unwrap();
            if [u.real, u.effective, u.saved] != [Uid::from_raw(4321); 3] {
                return 11;
            }
            let g = getresgid().unwrap();
            if [g.real, g.effective, g.saved] != [Gid::from_raw(5432); 3] {
                return 12;
            }
            let mut groups: Vec<u32> = getgroups().unwrap().into_iter().map(Gid::as_raw).collect();
            groups.sort_unstable();
            groups.dedup(); // the kernel keeps the duplicate it was given
            if groups != [7000, 7001] {
                return 13;
            }
            if setuid(Uid::from_raw(0)).is_ok() || setgid(Gid::from_raw(0)).is_ok() {
                return 14;
            }
            if setgroups(&[Gid::from_raw(0)]).is_ok() {
                return 15;
            }
            0
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn become_user_without_groups_clears_roots_groups() {
        if !running_as_root() {
            return;
        }
        let code = in_child(|| {
            // Give the child a root group to lose.
            setgroups(&[Gid::from_raw(0), Gid::from_raw(27)]).unwrap();
            if become_user(&identity(65534, 65534, &[])).is_err() {
                return 10;
            }
            if !getgroups().unwrap().is_empty() {
                return 11;
            }
            0
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn become_root_is_allowed_and_clears_groups() {
        if !running_as_root() {
            return;
        }
        let code = in_child(|| {
            setgroups(&[Gid::from_raw(27)]).unwrap();
            if become_user(&identity(0, 0, &[])).is_err() {
                return 10;
            }
            if !getgroups().unwrap().is_empty() || geteuid().as_raw() != 0 {
                return 11;
            }
            0
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn become_user_when_not_root_is_not_root() {
        if !running_as_root() {
            return;
        }
        let code = in_child(|| {
            let nobody = identity(65534, 65534, &[]);
            if become_user(&nobody).is_err() {
                return 10;
            }
            match become_user(&nobody) {
                Err(DropError::NotRoot { euid: 65534 }) => 0,
                Err(DropError::NotRoot { .. }) => 11,
                Err(DropError::Failed(_)) => 12,
                Ok(()) => 13,
            }
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn capabilities_kept_across_setuid_are_caught() {
        if !running_as_root() {
            return;
        }
        let code = in_child(|| {
            // PR_SET_KEEPCAPS keeps the permitted set across setuid; setuid(0) then
            // still fails (CAP_SETUID is not effective) but capset(2) could raise it.
            nix::sys::prctl::set_keepcaps(true).unwrap();
            match become_user(&identity(4321, 4321, &[])) {
                Err(DropError::Failed(msg)) if msg.contains("capabilities survived") => 0,
                Err(_) => 10,
                Ok(()) => 11,
            }
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn failed_syscall_is_failed_and_changes_no_user() {
        if !running_as_root() {
            return;
        }
        let code = in_child(|| {
            // More groups than NGROUPS_MAX (65536): setgroups fails with EINVAL.
            let too_many: Vec<u32> = (1..=65537).collect();
            match become_user(&identity(4321, 4321, &too_many)) {
                Err(DropError::Failed(msg)) if msg.starts_with("setgroups") => {}
                _ => return 10,
            }
            if geteuid().as_raw() != 0 {
                return 11;
            }
            0
        });
        assert_eq!(code, 0);
    }
}
