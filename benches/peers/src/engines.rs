//! The workload translated for each engine: the policy text each one loads, the
//! load (parse + compile) step that is timed, and the per-request preparation (principals,
//! entities, request values) that is done once, outside the timed loop.

use std::collections::{HashMap, HashSet};
use std::fmt::{Display, Write as _};
use std::net::IpAddr;
use std::str::FromStr;

use crate::workload::{Act, Workload, ADMIN, DB, NAMESPACES, OPS, OPS_NETWORK, READONLY};

pub type Res<T> = Result<T, String>;

pub fn err<E: Display>(e: E) -> String {
    e.to_string()
}

/// An engine ready to decide the workload's requests by index.
pub trait Decider {
    fn decide(&mut self, i: usize) -> bool;
}

// ---------------------------------------------------------------------------------------
// toolgate

/// The policy in toolgate's language.
pub fn toolgate_text(w: &Workload) -> String {
    let mut t = String::with_capacity(w.roles * 64);
    t.push_str("# generated workload (benches/peers)\n");
    writeln!(t, "role {READONLY}\nrole {ADMIN}\nrole {OPS}").unwrap();
    for k in 0..w.roles {
        writeln!(t, "role r{k}").unwrap();
    }
    writeln!(t, "network office = [{OPS_NETWORK}]").unwrap();
    writeln!(t, "allow {READONLY} to list tools \"*\"").unwrap();
    writeln!(t, "allow {ADMIN} to call tools \"*\"").unwrap();
    writeln!(t, "allow {OPS} to call tools \"{}.*\"", NAMESPACES[DB]).unwrap();
    for (k, grants) in w.grants.iter().enumerate() {
        let patterns: Vec<String> = grants
            .iter()
            .map(|&n| format!("\"{}.*\"", NAMESPACES[n]))
            .collect();
        writeln!(t, "allow r{k} to call tools {}", patterns.join(", ")).unwrap();
    }
    writeln!(
        t,
        "deny anyone to call tools \"db.drop_*\" unless role {ADMIN} or (role {OPS} and ip in office)"
    )
    .unwrap();
    t
}

pub fn toolgate_load(text: &str) -> Res<toolgate::Policy> {
    toolgate::Policy::from_text("peers.policy", text).map_err(err)
}

pub struct Toolgate<'w> {
    policy: toolgate::Policy,
    principals: Vec<toolgate::Principal>,
    requests: Vec<toolgate::Request<'w>>,
    who: Vec<usize>,
}

impl<'w> Toolgate<'w> {
    /// Principals from claims (`{"roles": [...]}`) via `Engine::principal`, and requests.
    pub fn prepare(policy: toolgate::Policy, w: &'w Workload) -> Res<Toolgate<'w>> {
        let engine = policy.engine();
        let principals = w
            .principals
            .iter()
            .map(|roles| {
                engine
                    .principal(&serde_json::json!({ "sub": "u", "roles": roles }))
                    .map_err(err)
            })
            .collect::<Res<Vec<_>>>()?;
        let time: jiff::Timestamp = "2026-11-25T10:00:00Z".parse().map_err(err)?;
        let requests = w
            .requests
            .iter()
            .map(|r| {
                let action = match r.action {
                    Act::Call => toolgate::Action::Call,
                    Act::List => toolgate::Action::List,
                };
                Ok(
                    toolgate::Request::new(toolgate::Kind::Tool, action, &r.tool)
                        .map_err(err)?
                        .with_ip(r.ip)
                        .at(time),
                )
            })
            .collect::<Res<Vec<_>>>()?;
        let who = w.requests.iter().map(|r| r.principal).collect();
        Ok(Toolgate {
            policy,
            principals,
            requests,
            who,
        })
    }
}

impl Decider for Toolgate<'_> {
    #[inline]
    fn decide(&mut self, i: usize) -> bool {
        self.policy
            .engine()
            .decide(&self.principals[self.who[i]], &self.requests[i])
            .is_allowed()
    }
}

// ---------------------------------------------------------------------------------------
// Cedar

/// The policies in Cedar. A role's grant on `NS.*` is `resource in Namespace::"NS"`; the
/// deny is a `forbid ... unless`. "Listing follows use" (toolgate lists a tool a
/// principal may call) is written out: the grants permit `call` and `list`, and the
/// forbid has a `list` twin that also spares `readonly` (whose explicit list grant
/// toolgate decides before falling back to the use).
pub fn cedar_text(w: &Workload) -> String {
    let mut t = String::with_capacity(w.roles * 400);
    writeln!(
        t,
        "permit (principal in Role::\"{READONLY}\", action == Action::\"list\", resource);"
    )
    .unwrap();
    writeln!(
        t,
        "permit (principal in Role::\"{ADMIN}\", action in [Action::\"call\", Action::\"list\"], resource);"
    )
    .unwrap();
    writeln!(
        t,
        "permit (principal in Role::\"{OPS}\", action in [Action::\"call\", Action::\"list\"], resource in Namespace::\"{}\");",
        NAMESPACES[DB]
    )
    .unwrap();
    for (k, grants) in w.grants.iter().enumerate() {
        for &n in grants {
            writeln!(
                t,
                "permit (principal in Role::\"r{k}\", action in [Action::\"call\", Action::\"list\"], resource in Namespace::\"{}\");",
                NAMESPACES[n]
            )
            .unwrap();
        }
    }
    let exempt = format!(
        "principal in Role::\"{ADMIN}\" || (principal in Role::\"{OPS}\" && context.ip.isInRange(ip(\"{OPS_NETWORK}\")))"
    );
    writeln!(
        t,
        "forbid (principal, action == Action::\"call\", resource)\n  when {{ resource.name like \"db.drop_*\" }}\n  unless {{ {exempt} }};"
    )
    .unwrap();
    writeln!(
        t,
        "forbid (principal, action == Action::\"list\", resource)\n  when {{ resource.name like \"db.drop_*\" }}\n  unless {{ principal in Role::\"{READONLY}\" || {exempt} }};"
    )
    .unwrap();
    t
}

fn cedar_uid(ty: &str, id: &str) -> Res<cedar_policy::EntityUid> {
    Ok(cedar_policy::EntityUid::from_type_name_and_id(
        cedar_policy::EntityTypeName::from_str(ty).map_err(err)?,
        cedar_policy::EntityId::new(id),
    ))
}

/// A tool entity: a `name` attribute, and its namespace as parent when the name starts
/// with `NS.` for a known namespace (what `NS.*` matches in toolgate).
fn cedar_tool(name: &str) -> Res<cedar_policy::Entity> {
    let mut parents = HashSet::new();
    if let Some(ns) = NAMESPACES.iter().find(|ns| {
        name.len() > ns.len() && name.starts_with(*ns) && name.as_bytes()[ns.len()] == b'.'
    }) {
        parents.insert(cedar_uid("Namespace", ns)?);
    }
    let attrs = HashMap::from([(
        "name".to_string(),
        cedar_policy::RestrictedExpression::new_string(name.to_string()),
    )]);
    cedar_policy::Entity::new(cedar_uid("Tool", name)?, attrs, parents).map_err(err)
}

pub struct CedarLoaded {
    pub policies: cedar_policy::PolicySet,
    pub entities: cedar_policy::Entities,
}

/// Timed load: the policy text, and the entity store of roles, namespaces and the tool
/// catalog (each tool with its `name` and namespace parent).
pub fn cedar_load(text: &str, w: &Workload) -> Res<CedarLoaded> {
    let policies = cedar_policy::PolicySet::from_str(text).map_err(err)?;
    let mut entities = Vec::with_capacity(w.tools.len() + w.roles + 30);
    for role in [READONLY, ADMIN, OPS] {
        entities.push(cedar_policy::Entity::new_no_attrs(
            cedar_uid("Role", role)?,
            HashSet::new(),
        ));
    }
    for k in 0..w.roles {
        entities.push(cedar_policy::Entity::new_no_attrs(
            cedar_uid("Role", &format!("r{k}"))?,
            HashSet::new(),
        ));
    }
    for ns in NAMESPACES {
        entities.push(cedar_policy::Entity::new_no_attrs(
            cedar_uid("Namespace", ns)?,
            HashSet::new(),
        ));
    }
    for tool in &w.tools {
        entities.push(cedar_tool(tool)?);
    }
    let entities = cedar_policy::Entities::from_entities(entities, None).map_err(err)?;
    Ok(CedarLoaded { policies, entities })
}

pub struct Cedar {
    authorizer: cedar_policy::Authorizer,
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
    requests: Vec<cedar_policy::Request>,
}

impl Cedar {
    /// Untimed: users (`User::"pN"` with their roles as parents) and entities for the
    /// unknown tool names the requests use are added to the store; requests prebuilt
    /// with `context.ip`.
    pub fn prepare(loaded: CedarLoaded, w: &Workload) -> Res<Cedar> {
        let mut extra = Vec::new();
        for (p, roles) in w.principals.iter().enumerate() {
            let parents = roles
                .iter()
                .map(|r| cedar_uid("Role", r))
                .collect::<Res<HashSet<_>>>()?;
            extra.push(cedar_policy::Entity::new_no_attrs(
                cedar_uid("User", &format!("p{p}"))?,
                parents,
            ));
        }
        for name in w.unknown_names() {
            extra.push(cedar_tool(&name)?);
        }
        let entities = loaded.entities.add_entities(extra, None).map_err(err)?;
        let call = cedar_uid("Action", "call")?;
        let list = cedar_uid("Action", "list")?;
        let requests = w
            .requests
            .iter()
            .map(|r| {
                let context = cedar_policy::Context::from_pairs([(
                    "ip".to_string(),
                    cedar_policy::RestrictedExpression::new_ip(r.ip.to_string()),
                )])
                .map_err(err)?;
                let action = if r.action == Act::Call {
                    call.clone()
                } else {
                    list.clone()
                };
                cedar_policy::Request::new(
                    cedar_uid("User", &format!("p{}", r.principal))?,
                    action,
                    cedar_uid("Tool", &r.tool)?,
                    context,
                    None,
                )
                .map_err(err)
            })
            .collect::<Res<Vec<_>>>()?;
        Ok(Cedar {
            authorizer: cedar_policy::Authorizer::new(),
            policies: loaded.policies,
            entities,
            requests,
        })
    }
}

impl Decider for Cedar {
    #[inline]
    fn decide(&mut self, i: usize) -> bool {
        let response =
            self.authorizer
                .is_authorized(&self.requests[i], &self.policies, &self.entities);
        response.decision() == cedar_policy::Decision::Allow
    }
}

// ---------------------------------------------------------------------------------------
// Casbin

/// The Casbin model: RBAC (`g`), `keyMatch` for the tool patterns (all of them are
/// `prefix*` or `*`, where keyMatch is exactly toolgate's glob), allow-and-no-deny
/// effect. The deny's `unless` cannot be a policy line (an allow line cannot override a
/// deny under this effect), so the exemption is in the matcher, applied to deny lines.
/// "Listing follows use": a `list` request also matches `call` lines; readonly's explicit
/// list grant exempts it from the deny for `list`.
pub const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, obj, act, ip

[policy_definition]
p = sub, obj, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = (r.act == p.act || (r.act == "list" && p.act == "call")) && keyMatch(r.obj, p.obj) && (p.sub == "anyone" || g(r.sub, p.sub)) && (p.eft == "allow" || !(g(r.sub, "admin") || (g(r.sub, "ops") && ipMatch(r.ip, "10.0.0.0/8")) || (r.act == "list" && g(r.sub, "readonly"))))
"#;

/// The policy lines (CSV, as a Casbin policy file would hold them).
pub fn casbin_text(w: &Workload) -> String {
    let mut t = String::with_capacity(w.roles * 128);
    writeln!(t, "p, {READONLY}, *, list, allow").unwrap();
    writeln!(t, "p, {ADMIN}, *, call, allow").unwrap();
    writeln!(t, "p, {OPS}, {}.*, call, allow", NAMESPACES[DB]).unwrap();
    for (k, grants) in w.grants.iter().enumerate() {
        for &n in grants {
            writeln!(t, "p, r{k}, {}.*, call, allow", NAMESPACES[n]).unwrap();
        }
    }
    writeln!(t, "p, anyone, db.drop_*, call, deny").unwrap();
    t
}

fn csv_rows(text: &str, kind: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(',').map(|f| f.trim().to_string());
            (fields.next().as_deref() == Some(kind)).then(|| fields.collect())
        })
        .collect()
}

/// Timed load: the model text and the policy lines, into an enforcer over a memory
/// adapter (auto-save off, so the lines are held once).
pub fn casbin_load(text: &str) -> Res<casbin::Enforcer> {
    use casbin::prelude::*;
    pollster::block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL).await.map_err(err)?;
        let mut e = Enforcer::new(model, MemoryAdapter::default())
            .await
            .map_err(err)?;
        e.enable_auto_save(false);
        e.add_policies(csv_rows(text, "p")).await.map_err(err)?;
        Ok(e)
    })
}

pub struct Casbin {
    enforcer: casbin::Enforcer,
    requests: Vec<(String, String, &'static str, String)>,
}

impl Casbin {
    /// Untimed: `g, pN, role` lines for the principals (role links built), request tuples.
    pub fn prepare(mut enforcer: casbin::Enforcer, w: &Workload) -> Res<Casbin> {
        use casbin::prelude::*;
        let mut g = String::new();
        for (p, roles) in w.principals.iter().enumerate() {
            for r in roles {
                writeln!(g, "g, p{p}, {r}").unwrap();
            }
        }
        pollster::block_on(enforcer.add_grouping_policies(csv_rows(&g, "g"))).map_err(err)?;
        enforcer.build_role_links().map_err(err)?;
        let requests = w
            .requests
            .iter()
            .map(|r| {
                (
                    format!("p{}", r.principal),
                    r.tool.clone(),
                    r.action.as_str(),
                    r.ip.to_string(),
                )
            })
            .collect();
        Ok(Casbin { enforcer, requests })
    }
}

impl Decider for Casbin {
    #[inline]
    fn decide(&mut self, i: usize) -> bool {
        use casbin::prelude::*;
        let (sub, obj, act, ip) = &self.requests[i];
        self.enforcer
            .enforce((sub.as_str(), obj.as_str(), *act, ip.as_str()))
            .unwrap_or_else(|e| {
                eprintln!("casbin: {e}");
                std::process::exit(2)
            })
    }
}

// ---------------------------------------------------------------------------------------
// Rego (regorus)

/// The rules. Grants are data (`data.grants`: role -> name prefixes, the `NS.` of each
/// `NS.*` pattern, matched with `startswith`); the deny and its exemption are rules.
pub const REGO_POLICY: &str = r#"
package toolgate

import rego.v1

default allow := false

allow if {
	input.action == "call"
	call_allowed
}

# toolgate's explicit list grant.
allow if {
	input.action == "list"
	"readonly" in input.roles
}

# Listing follows use.
allow if {
	input.action == "list"
	call_allowed
}

call_allowed if {
	not denied
	granted
}

granted if "admin" in input.roles

granted if {
	some role in input.roles
	some prefix in data.grants[role]
	startswith(input.tool, prefix)
}

denied if {
	startswith(input.tool, "db.drop_")
	not exempt
}

exempt if "admin" in input.roles

exempt if {
	"ops" in input.roles
	net.cidr_contains("10.0.0.0/8", input.ip)
}
"#;

/// The data document, as JSON text.
pub fn rego_data(w: &Workload) -> String {
    let mut grants = serde_json::Map::new();
    grants.insert(
        OPS.to_string(),
        serde_json::json!([format!("{}.", NAMESPACES[DB])]),
    );
    for (k, g) in w.grants.iter().enumerate() {
        let prefixes: Vec<String> = g.iter().map(|&n| format!("{}.", NAMESPACES[n])).collect();
        grants.insert(format!("r{k}"), serde_json::json!(prefixes));
    }
    serde_json::json!({ "grants": grants }).to_string()
}

fn rego_inputs(w: &Workload) -> Res<Vec<regorus::Value>> {
    w.requests
        .iter()
        .map(|r| {
            let input = serde_json::json!({
                "roles": w.principals[r.principal],
                "tool": r.tool,
                "action": r.action.as_str(),
                "ip": r.ip.to_string(),
            });
            regorus::Value::from_json_str(&input.to_string()).map_err(err)
        })
        .collect()
}

/// Timed load for the interpreter: policy and data into an engine, prepared by one
/// evaluation on an empty input (regorus prepares lazily on first evaluation).
pub fn rego_load(data: &str) -> Res<regorus::Engine> {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("toolgate.rego".to_string(), REGO_POLICY.to_string())
        .map_err(err)?;
    engine
        .add_data(regorus::Value::from_json_str(data).map_err(err)?)
        .map_err(err)?;
    engine.set_input(regorus::Value::new_object());
    engine
        .eval_rule("data.toolgate.allow".to_string())
        .map_err(err)?;
    Ok(engine)
}

pub struct Rego {
    engine: regorus::Engine,
    inputs: Vec<regorus::Value>,
    rule: String,
}

impl Rego {
    /// Untimed: each request's input document, converted to a regorus value once.
    pub fn prepare(engine: regorus::Engine, w: &Workload) -> Res<Rego> {
        Ok(Rego {
            engine,
            inputs: rego_inputs(w)?,
            rule: "data.toolgate.allow".to_string(),
        })
    }
}

fn rego_bool(v: regorus::Value) -> bool {
    v == regorus::Value::from(true)
}

impl Decider for Rego {
    #[inline]
    fn decide(&mut self, i: usize) -> bool {
        self.engine.set_input(self.inputs[i].clone());
        match self.engine.eval_rule(self.rule.clone()) {
            Ok(v) => rego_bool(v),
            Err(e) => {
                eprintln!("regorus: {e}");
                std::process::exit(2)
            }
        }
    }
}

/// Timed load for regorus's RVM: the same policy and data, compiled to a VM program.
pub fn rvm_load(data: &str) -> Res<regorus::rvm::RegoVM> {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("toolgate.rego".to_string(), REGO_POLICY.to_string())
        .map_err(err)?;
    let entry: std::sync::Arc<str> = std::sync::Arc::from("data.toolgate.allow");
    let compiled = engine.compile_with_entrypoint(&entry).map_err(err)?;
    let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
        &compiled,
        &["data.toolgate.allow"],
    )
    .map_err(err)?;
    let mut vm = regorus::rvm::RegoVM::new();
    vm.load_program(program);
    vm.set_data(regorus::Value::from_json_str(data).map_err(err)?)
        .map_err(err)?;
    Ok(vm)
}

pub struct Rvm {
    vm: regorus::rvm::RegoVM,
    inputs: Vec<regorus::Value>,
}

impl Rvm {
    pub fn prepare(vm: regorus::rvm::RegoVM, w: &Workload) -> Res<Rvm> {
        Ok(Rvm {
            vm,
            inputs: rego_inputs(w)?,
        })
    }
}

impl Decider for Rvm {
    #[inline]
    fn decide(&mut self, i: usize) -> bool {
        self.vm.set_input(self.inputs[i].clone());
        match self.vm.execute() {
            Ok(v) => rego_bool(v),
            Err(e) => {
                eprintln!("regorus rvm: {e}");
                std::process::exit(2)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Hash probe floor

const CALL: u8 = 1;
const LIST: u8 = 2;

/// A precomputed (role, tool) -> {call, list} map over every name the requests use (the
/// catalog plus the unknown names), with the deny's exemption checked per request. A
/// lower bound: it answers only names it was built for, and knows the policy's shape.
pub struct FloorLoaded {
    names: ahash::AHashMap<String, u32>,
    grants: ahash::AHashMap<(u32, u32), u8>,
    drop: Vec<bool>,
    role_ids: ahash::AHashMap<String, u32>,
    admin: u32,
    ops: u32,
}

pub fn floor_load(w: &Workload) -> FloorLoaded {
    let mut universe: Vec<String> = w.tools.clone();
    universe.extend(w.unknown_names());
    let names: ahash::AHashMap<String, u32> = universe
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i as u32))
        .collect();
    let drop = universe.iter().map(|n| n.starts_with("db.drop_")).collect();
    let mut role_ids = ahash::AHashMap::new();
    for k in 0..w.roles {
        role_ids.insert(format!("r{k}"), k as u32);
    }
    let (readonly, admin, ops) = (w.roles as u32, w.roles as u32 + 1, w.roles as u32 + 2);
    role_ids.insert(READONLY.to_string(), readonly);
    role_ids.insert(ADMIN.to_string(), admin);
    role_ids.insert(OPS.to_string(), ops);
    let mut grants = ahash::AHashMap::new();
    for (t, name) in universe.iter().enumerate() {
        let t = t as u32;
        *grants.entry((readonly, t)).or_insert(0) |= LIST;
        *grants.entry((admin, t)).or_insert(0) |= CALL;
        let in_ns = |n: usize| {
            name.starts_with(NAMESPACES[n])
                && name.as_bytes().get(NAMESPACES[n].len()) == Some(&b'.')
        };
        if in_ns(DB) {
            *grants.entry((ops, t)).or_insert(0) |= CALL;
        }
        for (k, g) in w.grants.iter().enumerate() {
            if g.iter().any(|&n| in_ns(n)) {
                *grants.entry((k as u32, t)).or_insert(0) |= CALL;
            }
        }
    }
    FloorLoaded {
        names,
        grants,
        drop,
        role_ids,
        admin,
        ops,
    }
}

pub struct Floor<'w> {
    loaded: FloorLoaded,
    principals: Vec<Vec<u32>>,
    w: &'w Workload,
}

impl<'w> Floor<'w> {
    pub fn prepare(loaded: FloorLoaded, w: &'w Workload) -> Floor<'w> {
        let principals = w
            .principals
            .iter()
            .map(|roles| roles.iter().map(|r| loaded.role_ids[r]).collect())
            .collect();
        Floor {
            loaded,
            principals,
            w,
        }
    }
}

fn in_ops_network(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[0] == 10,
        IpAddr::V6(a) => a.to_ipv4_mapped().is_some_and(|a| a.octets()[0] == 10),
    }
}

impl Decider for Floor<'_> {
    #[inline]
    fn decide(&mut self, i: usize) -> bool {
        let r = &self.w.requests[i];
        let f = &self.loaded;
        let roles = &self.principals[r.principal];
        let Some(&t) = f.names.get(r.tool.as_str()) else {
            return false;
        };
        let bits = |want: u8| {
            roles
                .iter()
                .any(|&role| f.grants.get(&(role, t)).is_some_and(|b| b & want != 0))
        };
        if r.action == Act::List && bits(LIST) {
            return true;
        }
        if f.drop[t as usize]
            && !(roles.contains(&f.admin) || (roles.contains(&f.ops) && in_ops_network(r.ip)))
        {
            return false;
        }
        bits(CALL)
    }
}
