//! The generated workload: roles, grants, tools, principals and requests, the same for
//! every engine. A seeded xorshift64* generator makes every run see the same data.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The 20 tool namespaces.
pub const NAMESPACES: [&str; 20] = [
    "github",
    "jira",
    "slack",
    "db",
    "fs",
    "k8s",
    "aws",
    "gcp",
    "docker",
    "npm",
    "mail",
    "calendar",
    "drive",
    "notion",
    "linear",
    "sentry",
    "stripe",
    "search",
    "confluence",
    "pagerduty",
];

/// Index of `db` in [`NAMESPACES`].
pub const DB: usize = 3;

/// The built-in roles (besides the generated `r0`, `r1`, ...).
pub const READONLY: &str = "readonly";
pub const ADMIN: &str = "admin";
pub const OPS: &str = "ops";

/// The network the `ops` exemption of the deny names.
pub const OPS_NETWORK: &str = "10.0.0.0/8";

/// The action of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Call,
    List,
}

impl Act {
    pub fn as_str(self) -> &'static str {
        match self {
            Act::Call => "call",
            Act::List => "list",
        }
    }
}

/// One request: who (an index into `principals`), what, which action, from where.
#[derive(Debug, Clone)]
pub struct Req {
    pub principal: usize,
    pub tool: String,
    pub action: Act,
    pub ip: IpAddr,
}

pub struct Workload {
    /// Number of generated roles `r0..r{roles-1}`.
    pub roles: usize,
    /// Every tool name, `NS.op_K` (and `db.drop_K` for the first quarter of `db`).
    pub tools: Vec<String>,
    /// Per generated role: the namespaces (indices into [`NAMESPACES`]) it may call.
    pub grants: Vec<Vec<usize>>,
    /// Per principal: its role names (1 to 3, distinct).
    pub principals: Vec<Vec<String>>,
    pub requests: Vec<Req>,
}

/// A xorshift64* generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Principals generated per size (requests pick one of them).
pub const PRINCIPALS: usize = 512;

/// Generates the workload for `roles` roles, `tools` tools and `requests` requests.
pub fn generate(roles: usize, tools: usize, requests: usize) -> Workload {
    let mut rng = Rng::new(0x70_01_6a_7e ^ (roles as u64 * 7919 + tools as u64));
    let per_ns = (tools / NAMESPACES.len()).max(1);
    let drops = (per_ns / 4).max(1);

    let mut names = Vec::with_capacity(per_ns * NAMESPACES.len());
    for (n, ns) in NAMESPACES.iter().enumerate() {
        for k in 0..per_ns {
            if n == DB && k < drops {
                names.push(format!("{ns}.drop_{k}"));
            } else {
                names.push(format!("{ns}.op_{k}"));
            }
        }
    }

    // Each namespace is granted to each role with probability 1/6 (so to about
    // roles / 6 roles); every role gets at least one, every namespace at least one role.
    let mut grants: Vec<Vec<usize>> = (0..roles)
        .map(|_| {
            (0..NAMESPACES.len())
                .filter(|_| rng.below(6) == 0)
                .collect()
        })
        .collect();
    for g in grants.iter_mut() {
        if g.is_empty() {
            g.push(rng.below(NAMESPACES.len()));
        }
    }
    for n in 0..NAMESPACES.len() {
        if !grants.iter().any(|g| g.contains(&n)) {
            let r = rng.below(roles);
            grants[r].push(n);
            grants[r].sort_unstable();
        }
    }

    let principals: Vec<Vec<String>> = (0..PRINCIPALS)
        .map(|_| {
            let count = 1 + rng.below(3);
            let mut mine: Vec<String> = Vec::new();
            while mine.len() < count {
                let pick = rng.below(100);
                let role = if pick < 4 {
                    ADMIN.to_string()
                } else if pick < 12 {
                    READONLY.to_string()
                } else if pick < 20 {
                    OPS.to_string()
                } else {
                    format!("r{}", rng.below(roles))
                };
                if !mine.contains(&role) {
                    mine.push(role);
                }
            }
            mine
        })
        .collect();

    let requests = (0..requests)
        .map(|_| {
            let principal = rng.below(PRINCIPALS);
            let pick = rng.below(100);
            let tool = if pick < 78 {
                names[rng.below(names.len())].clone()
            } else if pick < 90 {
                // A `db.drop_*` tool, so the deny and its exemptions are exercised.
                format!("db.drop_{}", rng.below(drops))
            } else if pick < 95 {
                // Unknown tool in a known namespace: `NS.*` patterns still match it.
                format!(
                    "{}.unknown_{}",
                    NAMESPACES[rng.below(NAMESPACES.len())],
                    rng.below(1000)
                )
            } else {
                // Unknown namespace: only `*` matches it.
                format!("other{}.op_{}", rng.below(5), rng.below(1000))
            };
            let action = if rng.chance(75) { Act::Call } else { Act::List };
            let ip = match rng.below(100) {
                0..=44 => IpAddr::V4(Ipv4Addr::new(
                    10,
                    rng.below(256) as u8,
                    rng.below(256) as u8,
                    1 + rng.below(254) as u8,
                )),
                45..=89 => IpAddr::V4(Ipv4Addr::new(
                    192,
                    168,
                    rng.below(256) as u8,
                    1 + rng.below(254) as u8,
                )),
                _ => IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0,
                    0,
                    0,
                    0,
                    0,
                    1 + rng.below(0xfff0) as u16,
                )),
            };
            Req {
                principal,
                tool,
                action,
                ip,
            }
        })
        .collect();

    Workload {
        roles,
        tools: names,
        grants,
        principals,
        requests,
    }
}

impl Workload {
    /// Distinct tool names that requests use but the catalog lacks.
    pub fn unknown_names(&self) -> Vec<String> {
        let known: std::collections::HashSet<&str> =
            self.tools.iter().map(String::as_str).collect();
        let mut out: Vec<String> = self
            .requests
            .iter()
            .filter(|r| !known.contains(r.tool.as_str()))
            .map(|r| r.tool.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}
