//! `toolgate eval`: decide one request, or stream JSON Lines of them.
//!
//! Lines are read and answered one at a time (a million lines are never held in
//! memory); principals are cached by the exact text of their claims, so a stream of
//! requests from a few tokens resolves each token once.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;

use ahash::AHashMap;
use jiff::Timestamp;
use serde_json::value::RawValue;
use toolgate::unstable::eval::{Decision, Engine};
use toolgate::unstable::wire;
use toolgate::Principal;

use crate::check::{fail, load_options, load_policy, Shown};
use crate::EvalArgs;

/// Principals cached at most (the cache is emptied when full).
const PRINCIPAL_CACHE: usize = 4096;

/// Runs `toolgate eval`.
pub fn run(args: &EvalArgs) -> ExitCode {
    let options = match load_options(args.tools.as_deref()) {
        Ok(options) => options,
        Err(message) => return fail(&message),
    };
    let engine = match load_policy(&args.policy, &options, Shown::Everything) {
        Ok(policy) => policy.into_engine(),
        Err(code) => return code,
    };
    let (path, stream) = match (&args.request, &args.requests) {
        (Some(path), _) => (path, false),
        (None, Some(path)) => (path, true),
        (None, None) => return fail("give `--request FILE` or `--requests FILE`"),
    };
    let input: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(path) {
            Ok(file) => Box::new(file),
            Err(error) => return fail(&format!("cannot read `{}`: {error}", path.display())),
        }
    };
    let mut evaluator = Evaluator {
        engine: &engine,
        principals: AHashMap::new(),
    };
    let outcome = if stream {
        evaluator.stream(input)
    } else {
        evaluator.single(input)
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => fail(&format!("i/o error: {error}")),
    }
}

struct Evaluator<'e> {
    engine: &'e Engine,
    principals: AHashMap<Box<str>, Principal>,
}

impl<'e> Evaluator<'e> {
    /// Decides one request object; true when it was valid.
    fn single(&mut self, mut input: Box<dyn Read>) -> std::io::Result<bool> {
        let mut text = String::new();
        input.read_to_string(&mut text)?;
        let mut out = std::io::stdout().lock();
        let valid = self.answer(text.trim(), &mut out)?;
        out.flush()?;
        Ok(valid)
    }

    /// Decides JSON Lines; true when every line was valid.
    fn stream(&mut self, input: Box<dyn Read>) -> std::io::Result<bool> {
        let mut reader = BufReader::with_capacity(1 << 16, input);
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let mut line = String::new();
        let mut all_valid = true;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            all_valid &= self.answer(line.trim_end_matches(['\n', '\r']), &mut out)?;
            if reader.buffer().is_empty() {
                out.flush()?;
            }
        }
        out.flush()?;
        Ok(all_valid)
    }

    /// Writes the decision line for one request, or its error line; true when valid.
    fn answer(&mut self, line: &str, out: &mut impl Write) -> std::io::Result<bool> {
        match self.decide(line) {
            Ok(decision) => {
                wire::write_decision(&decision, out)?;
                Ok(true)
            }
            Err(message) => {
                out.write_all(b"{\"error\":")?;
                serde_json::to_writer(&mut *out, &message)?;
                out.write_all(b"}\n")?;
                Ok(false)
            }
        }
    }

    fn decide(&mut self, line: &str) -> Result<Decision<'e>, String> {
        let parsed = wire::parse_request(line)?;
        let engine = self.engine;
        let principal = self.principal(parsed.claims)?;
        let request = parsed.request(Timestamp::now());
        Ok(engine.decide(principal, &request))
    }

    fn principal(&mut self, claims: &RawValue) -> Result<&Principal, String> {
        let text = claims.get();
        if !self.principals.contains_key(text) {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|error| error.to_string())?;
            let principal = self
                .engine
                .principal(&value)
                .map_err(|error| error.to_string())?;
            if self.principals.len() >= PRINCIPAL_CACHE {
                self.principals.clear();
            }
            self.principals.insert(text.into(), principal);
        }
        self.principals
            .get(text)
            .ok_or_else(|| "internal error: principal cache".to_string())
    }
}
