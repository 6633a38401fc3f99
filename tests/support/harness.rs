//! A small test runner for suites that share expensive fixtures (servers started
//! once): runs named async cases, each in its own task so a panic fails only that
//! case, and ends with the line `<suite>: N passed, M failed`.

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub struct Runner {
    suite: &'static str,
    filter: Option<String>,
    passed: usize,
    failed: Vec<String>,
}

impl Runner {
    /// A case runs when its name contains the first non-flag argument (as with
    /// `cargo test --test NAME -- FILTER`).
    pub fn from_args(suite: &'static str) -> Runner {
        let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
        Runner {
            suite,
            filter,
            passed: 0,
            failed: Vec::new(),
        }
    }

    pub fn wants(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    pub async fn run<F>(&mut self, name: &str, case: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if !self.wants(name) {
            return;
        }
        let started = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(180), tokio::spawn(case)).await;
        let elapsed = started.elapsed().as_secs_f64();
        match outcome {
            Ok(Ok(())) => {
                println!("ok     {name} ({elapsed:.2}s)");
                self.passed += 1;
            }
            Ok(Err(join_error)) => {
                let message = match join_error.try_into_panic() {
                    Ok(panic) => panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panicked".into()),
                    Err(e) => e.to_string(),
                };
                println!("FAIL   {name} ({elapsed:.2}s): {message}");
                self.failed.push(name.to_owned());
            }
            Err(_) => {
                println!("FAIL   {name}: timed out after 180 s");
                self.failed.push(name.to_owned());
            }
        }
    }

    pub fn finish(self) -> ExitCode {
        for name in &self.failed {
            println!("failed: {name}");
        }
        println!("{}: {} passed, {} failed", self.suite, self.passed, self.failed.len());
        if self.failed.is_empty() && (self.passed > 0 || self.filter.is_some()) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// A named case of a suite: an async function of the suite's context, boxed so that a
/// list of them has one type.
pub type Case<C> = fn(C) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// `cases![a, b, …]`: `[(name, Case), …]` for async functions taking the same context.
#[allow(unused_macros)]
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        [$((stringify!($name), (|ctx| Box::pin($name(ctx))) as $crate::support::harness::Case<_>)),*]
    };
}
#[allow(unused_imports)]
pub(crate) use cases;
