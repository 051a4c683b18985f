//! The small pools policies and requests draw from, so that they meet often.

/// Role names (none is a keyword).
pub const ROLE_NAMES: [&str; 6] = ["admin", "developer", "user", "readonly", "ops", "guest"];

/// External role values a role may list under `aka` (some are other roles' names).
pub const AKA_VALUES: [&str; 7] = [
    "mcp-admins",
    "Tool.Admin",
    "devs",
    "ops-team",
    "readers",
    "user",
    "guest",
];

/// Role claim values no policy declares.
pub const UNKNOWN_ROLE_VALUES: [&str; 4] = ["intern", "ADMIN", "", "admin "];

/// Scopes only the step-up-bound rules name (enough of them that finding the smallest
/// step-up can take more than the engine's 4096 tries).
pub const BOUND_SCOPES: [&str; 20] = [
    "b:00", "b:01", "b:02", "b:03", "b:04", "b:05", "b:06", "b:07", "b:08", "b:09", "b:10", "b:11",
    "b:12", "b:13", "b:14", "b:15", "b:16", "b:17", "b:18", "b:19",
];

/// IPv4-mapped IPv6 ranges (docs/language.md, extension (a): the IPv4 range they map
/// when the prefix is at least 96), and one below /96 that stays IPv6.
pub const MAPPED_CIDRS: [&str; 5] = [
    "::ffff:10.0.0.0/104",
    "::ffff:192.168.10.0/120",
    "::ffff:10.1.2.3",
    "::ffff:0.0.0.0/96",
    "::ffff:0.0.0.0/80",
];

/// Scopes, in implication order: a scope only ever implies scopes after it.
pub const SCOPES: [&str; 8] = [
    "tool:admin",
    "deploy:admin",
    "tool:write",
    "deploy:write",
    "deploy:approve",
    "tool:read",
    "reports:run",
    "read",
];

/// Client ids.
pub const CLIENTS: [&str; 4] = ["cli", "web-app", "agent-7", "Cli"];

/// Claim paths that conditions test (top-level, nested, and a top-level name with dots).
pub const CLAIM_PATHS: [&str; 8] = [
    "email_verified",
    "tenant",
    "level",
    "groups",
    "org.team",
    "https://example.com/tier",
    "meta.flags.beta",
    "nullable",
];

/// Paths a claims block may map roles from.
pub const ROLE_PATHS: [&str; 6] = [
    "roles",
    "role",
    "groups",
    "realm_access.roles",
    "https://example.com/roles",
    "resource_access.app.roles",
];

/// Paths a claims block may map scopes from.
pub const SCOPE_PATHS: [&str; 4] = ["scope", "scp", "permissions", "ext.scopes"];

/// Paths a claims block may map the client id from.
pub const CLIENT_PATHS: [&str; 4] = ["client_id", "azp", "app.id", "cid"];

/// Time zones: UTC and three with daylight saving time.
pub const ZONES: [&str; 4] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
];

/// Network names.
pub const NETWORK_NAMES: [&str; 3] = ["office", "vpn", "lab"];

/// Window names.
pub const WINDOW_NAMES: [&str; 4] = ["business_hours", "night", "weekend", "maintenance"];

/// Ranges: IPv4, IPv6, `/0`, single addresses, host bits set.
pub const CIDRS: [&str; 15] = [
    "10.0.0.0/8",
    "192.168.10.0/24",
    "2001:db8::/32",
    "0.0.0.0/0",
    "::/0",
    "10.1.2.3",
    "2001:db8::1",
    "172.16.0.0/12",
    "10.1.0.0/16",
    "10.0.0.1/8",
    "fe80::/10",
    "::1/128",
    "192.168.10.128/25",
    "10.1.2.3/32",
    "2001:db8:0:1::/64",
];

/// IPv4 request addresses, inside and just outside the pooled ranges.
pub const IPV4_ADDRESSES: [&str; 13] = [
    "10.1.2.3",
    "10.9.9.9",
    "10.255.255.255",
    "11.0.0.0",
    "192.168.10.1",
    "192.168.10.200",
    "192.168.11.1",
    "8.8.8.8",
    "172.16.5.4",
    "172.32.0.1",
    "10.1.2.2",
    "0.0.0.0",
    "127.0.0.1",
];

/// IPv6 request addresses.
pub const IPV6_ADDRESSES: [&str; 8] = [
    "2001:db8::1",
    "2001:db8:0:1::5",
    "2001:db8:ffff::",
    "2001:db9::1",
    "fe80::1",
    "::1",
    "::",
    "::ffff:0:a01:203",
];

/// Tool, resource and prompt names.
pub const NAMES: [&str; 22] = [
    "fs.read_file",
    "fs.write_file",
    "github.create_issue",
    "github.list_issues",
    "db.drop_table",
    "db.query",
    "logs.tail",
    "report.daily",
    "report.delete_all",
    "deploy.prod",
    "lit*star",
    "litXstar",
    "q?x",
    "qax",
    "a\\b",
    "docs://intro",
    "file:///data/a/b.txt",
    "help-intro",
    "caf\u{e9}",
    "exact",
    "premidsuf",
    "pre-a-mid-b-suf",
];

/// Glob patterns as their string values (glob escapes included): prefixes, suffixes,
/// `*`, `?`, escapes and general shapes.
pub const PATTERNS: [&str; 22] = [
    "*",
    "fs.*",
    "github.list_*",
    "github.*",
    "*_file",
    "*.*",
    "docs://*",
    "file:///data/*",
    "q?x",
    "lit\\*star",
    "pre*mid*suf",
    "report.delete*",
    "report.*",
    "help-*",
    "db.drop_*",
    "deploy.*",
    "a\\\\b",
    "a\\b",
    "??",
    "*\\?*",
    "caf?",
    "*\\**",
];

/// String literals for claim comparisons (quotes, escapes, non-ASCII, look-alikes).
pub const CLAIM_STRINGS: [&str; 9] = [
    "acme",
    "42",
    "true",
    "",
    "say \"hi\"",
    "caf\u{e9}",
    "a\\b",
    "line\nbreak",
    "x.y",
];

/// Integer literals for claim comparisons.
pub const CLAIM_INTEGERS: [i64; 5] = [42, 0, -1, 7, 1];

/// Decimal literals for claim comparisons (equal to, or just off, the pooled integers).
pub const CLAIM_DECIMALS: [&str; 5] = ["42.0", "42.5", "-1.0", "0.5", "7.00"];

/// Argument paths that `arg` atoms test, as written in policies: top-level names, dotted
/// nested paths (which a request may also hold as one top-level name: ambiguous), JSON
/// Pointers (with `~1` and `~0` escapes, and one naming a top-level name with a dot) and
/// paths into arrays (which are never addressed).
pub const ARG_PATHS: [&str; 18] = [
    "path",
    "days",
    "format",
    "mode",
    "tags",
    "query",
    "query.limit",
    "/query/limit",
    "/query.limit",
    "q.tags",
    "/q/tags",
    "opts.deep.flag",
    "/opts/deep/flag",
    "/a~1b",
    "/x~0y/z",
    "tags.0",
    "/tags/0",
    "a.b",
];

/// Where requests put argument values: the keys from the top down. Dotted keys and their
/// nested forms both appear, so that a request may make a dotted path ambiguous.
pub const ARG_SLOTS: [&[&str]; 20] = [
    &["path"],
    &["days"],
    &["format"],
    &["mode"],
    &["tags"],
    &["query"],
    &["query", "limit"],
    &["query.limit"],
    &["q", "tags"],
    &["q.tags"],
    &["opts", "deep", "flag"],
    &["opts.deep.flag"],
    &["opts.deep", "flag"],
    &["a/b"],
    &["a", "b"],
    &["a.b"],
    &["x~y", "z"],
    &["x/y", "z"],
    &["tags", "0"],
    &["Path"],
];

/// String literals that `arg` atoms compare with: paths inside and outside the pooled
/// globs, `..`, number and boolean look-alikes, the empty string.
pub const ARG_STRINGS: [&str; 12] = [
    "docs/a.md",
    "docs/../etc/passwd",
    "/data/x.csv",
    "/data/../etc/shadow",
    "pdf",
    "csv",
    "",
    "5",
    "true",
    "..",
    "x.y",
    "r\u{e9}sum\u{e9}.pdf",
];

/// Globs that `matches` tests (as string values: glob escapes included).
pub const ARG_GLOBS: [&str; 12] = [
    "docs/*",
    "*..*",
    "/data/*",
    "*.pdf",
    "*.csv",
    "?",
    "*",
    "docs/?.md",
    "*/../*",
    "\\*",
    "p?f",
    "*\\**",
];

/// Numeric literals for `arg` comparisons, integers and decimals, at and around the
/// request values' bounds.
pub const ARG_NUMBERS: [&str; 12] = [
    "5", "5.0", "-1", "0", "0.0", "31", "4.999", "5.5", "-0.5", "100", "1", "31.50",
];

/// Dates of interest: DST changes in Europe (2026-03-29, 2026-10-25), New York
/// (2026-03-08, 2026-11-01) and Sydney (2026-04-05, 2026-10-04), and a plain week.
pub const DATES: [&str; 12] = [
    "2026-03-29",
    "2026-10-25",
    "2026-03-08",
    "2026-11-01",
    "2026-04-05",
    "2026-10-04",
    "2026-03-27",
    "2026-11-26",
    "2026-11-27",
    "2026-11-28",
    "2026-11-30",
    "2026-12-31",
];

/// The pooled strings as owned strings.
pub fn owned(pool: &[&str]) -> Vec<String> {
    pool.iter().map(|item| (*item).to_owned()).collect()
}
