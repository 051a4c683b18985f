//! `toolgate key`: API key files. `new` prints a key once and stores only its SHA-256;
//! `list` never shows a secret; `revoke` marks a key revoked. `new` and `revoke` change
//! the file under its advisory lock and replace it through an exclusively created
//! temporary file (see [`KeyFile::update`]).

use std::path::PathBuf;
use std::process::ExitCode;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use toolgate::credentials::api_key::{check_id, generate, KeyEntry, KeyFile};

use crate::check::fail;

/// `toolgate key` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make a key: print it once, store its digest.
    New(NewArgs),
    /// List the keys of a key file (never a secret).
    List(ListArgs),
    /// Mark a key revoked.
    Revoke(RevokeArgs),
}

/// Arguments of `toolgate key new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The key file (created if missing).
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
    /// The key id: 1 to 64 ASCII letters, digits and `-`.
    #[arg(long)]
    id: String,
    /// A role the key grants (repeat, or separate with commas).
    #[arg(long = "role", value_name = "ROLE", value_delimiter = ',')]
    roles: Vec<String>,
    /// A scope the key holds (repeat, or separate with commas).
    #[arg(long = "scope", value_name = "SCOPE", value_delimiter = ',')]
    scopes: Vec<String>,
    /// The client id the key presents as.
    #[arg(long)]
    client: Option<String>,
    /// When the key expires: an RFC 3339 instant, or a duration from now (`30d`, `12h`).
    #[arg(long, value_name = "WHEN")]
    expires: Option<String>,
}

/// Arguments of `toolgate key list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The key file.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Arguments of `toolgate key revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The key file.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
    /// The id of the key to revoke.
    #[arg(long)]
    id: String,
}

/// Output formats of `toolgate key list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Human,
    /// A JSON array.
    Json,
}

/// Runs `toolgate key`.
pub fn run(command: Command) -> ExitCode {
    let outcome = match command {
        Command::New(args) => new(&args),
        Command::List(args) => list(&args),
        Command::Revoke(args) => revoke(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn new(args: &NewArgs) -> Result<(), String> {
    check_id(&args.id)?;
    let now = Timestamp::now();
    let expires = args
        .expires
        .as_deref()
        .map(|text| expiry(text, now))
        .transpose()?;
    if expires.is_some_and(|expires| expires <= now) {
        return Err("`--expires` is in the past".into());
    }
    let key = KeyFile::update(&args.file, true, |file| {
        if file.get(&args.id).is_some() {
            return Err(format!(
                "`{}` already has a key `{}`; revoke it and pick another id",
                args.file.display(),
                args.id
            ));
        }
        let (key, digest) = generate(&args.id)?;
        file.keys.push(KeyEntry {
            id: args.id.clone(),
            sha256: digest,
            roles: args.roles.clone(),
            scopes: args.scopes.clone(),
            client: args.client.clone(),
            created: Some(now.round(jiff::Unit::Second).unwrap_or(now)),
            expires,
            revoked: false,
        });
        Ok(key)
    })?;
    say!("{key}");
    eprintln!(
        "toolgate: key `{}` added to `{}`; this is the only time the key is shown",
        args.id,
        args.file.display()
    );
    Ok(())
}

/// An RFC 3339 instant, or `N` days (`30d`), hours (`12h`) or minutes (`90m`) from `now`.
fn expiry(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant);
    }
    let unit_seconds = match text.chars().last() {
        Some('d') => 86_400,
        Some('h') => 3_600,
        Some('m') => 60,
        _ => 0,
    };
    let count = text
        .get(..text.len().saturating_sub(1))
        .and_then(|digits| digits.parse::<i64>().ok())
        .filter(|count| *count > 0 && unit_seconds > 0);
    count
        .and_then(|count| count.checked_mul(unit_seconds))
        .and_then(|seconds| now.checked_add(SignedDuration::from_secs(seconds)).ok())
        .map(|instant| instant.round(jiff::Unit::Second).unwrap_or(instant))
        .ok_or_else(|| {
            format!("`--expires {text}`: give an RFC 3339 instant or a duration like `30d`, `12h`")
        })
}

fn status(entry: &KeyEntry, now: Timestamp) -> &'static str {
    if entry.revoked {
        "revoked"
    } else if entry.expires.is_some_and(|expires| now >= expires) {
        "expired"
    } else {
        "active"
    }
}

fn list(args: &ListArgs) -> Result<(), String> {
    let file = KeyFile::load(&args.file)?;
    let now = Timestamp::now();
    match args.format {
        Format::Json => {
            let keys: Vec<_> = file
                .keys
                .iter()
                .map(|entry| {
                    json!({
                        "id": entry.id,
                        "status": status(entry, now),
                        "roles": entry.roles,
                        "scopes": entry.scopes,
                        "client": entry.client,
                        "created": entry.created.map(|t| t.to_string()),
                        "expires": entry.expires.map(|t| t.to_string()),
                    })
                })
                .collect();
            say!("{}", serde_json::Value::Array(keys));
        }
        Format::Human => crate::write_stdout(format_args!("{}", table(&file, now))),
    }
    Ok(())
}

fn table(file: &KeyFile, now: Timestamp) -> String {
    let header = ["ID", "STATUS", "ROLES", "SCOPES", "CLIENT", "EXPIRES"].map(String::from);
    let mut rows = vec![header.to_vec()];
    for entry in &file.keys {
        rows.push(vec![
            entry.id.clone(),
            status(entry, now).to_string(),
            or_dash(entry.roles.join(",")),
            or_dash(entry.scopes.join(",")),
            entry.client.clone().unwrap_or_else(|| "-".into()),
            entry
                .expires
                .map_or_else(|| "never".into(), |t| t.to_string()),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if file.keys.is_empty() {
        out.push_str("(no keys)\n");
    }
    out
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".into()
    } else {
        text
    }
}

fn revoke(args: &RevokeArgs) -> Result<(), String> {
    KeyFile::update(&args.file, false, |file| {
        let Some(entry) = file.keys.iter_mut().find(|entry| entry.id == args.id) else {
            return Err(format!(
                "`{}` has no key `{}`",
                args.file.display(),
                args.id
            ));
        };
        entry.revoked = true;
        Ok(())
    })?;
    eprintln!("toolgate: key `{}` revoked", args.id);
    Ok(())
}
