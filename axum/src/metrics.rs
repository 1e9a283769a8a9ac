//! Counters for the forward-auth server, in Prometheus' text format: requests by outcome and
//! Stream code, and a histogram of the time each check takes.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::{Caller, Refusal};

/// Histogram bucket bounds, in nanoseconds (1 us to 1 ms).
const BUCKETS_NS: [u64; 8] = [1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 1_000_000];
/// The Stream codes counted apart; any other code counts as `other`.
const CODES: [i32; 7] = [4, 5, 40, 41, 42, 43, -1];
const PRINCIPALS: [&str; 4] = ["user", "server", "dev", "anonymous"];

/// The forward-auth server's counters. All updates are relaxed atomics: a scrape may see one
/// request counted and its latency not yet, never a torn value.
#[derive(Debug, Default)]
pub struct Metrics {
    allowed: [AtomicU64; PRINCIPALS.len()],
    refused: [AtomicU64; CODES.len() + 1],
    buckets: [AtomicU64; BUCKETS_NS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Metrics {
    /// Counts one check's outcome and how long it took.
    pub fn record(&self, outcome: Result<&Caller, &Refusal>, took: Duration) {
        match outcome {
            Ok(principal) => {
                let i = PRINCIPALS.iter().position(|&p| p == principal.kind()).unwrap_or(0);
                add(self.allowed.get(i));
            }
            Err(refusal) => {
                let i = CODES.iter().position(|&c| c == refusal.stream_code()).unwrap_or(CODES.len());
                add(self.refused.get(i));
            }
        }
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        if let Some(i) = BUCKETS_NS.iter().position(|&b| ns <= b) {
            add(self.buckets.get(i));
        }
        add(Some(&self.count));
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    /// The counters in Prometheus' text exposition format (version 0.0.4).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP stackjwt_authz_requests_total Checks, by outcome and Stream error code.\n");
        out.push_str("# TYPE stackjwt_authz_requests_total counter\n");
        for (p, n) in PRINCIPALS.iter().zip(&self.allowed) {
            let _ = writeln!(
                out,
                "stackjwt_authz_requests_total{{outcome=\"allowed\",principal=\"{p}\"}} {}",
                n.load(Relaxed)
            );
        }
        for (i, n) in self.refused.iter().enumerate() {
            let (outcome, code) = match CODES.get(i) {
                Some(-1) => ("error", "-1".to_owned()),
                Some(c) => ("refused", c.to_string()),
                None => ("refused", "other".to_owned()),
            };
            let _ = writeln!(
                out,
                "stackjwt_authz_requests_total{{outcome=\"{outcome}\",code=\"{code}\"}} {}",
                n.load(Relaxed)
            );
        }
        out.push_str("# HELP stackjwt_authz_check_seconds Time to find and check a request's credentials.\n");
        out.push_str("# TYPE stackjwt_authz_check_seconds histogram\n");
        let mut cumulative = 0u64;
        for (bound, n) in BUCKETS_NS.iter().zip(&self.buckets) {
            cumulative = cumulative.saturating_add(n.load(Relaxed));
            let le = Duration::from_nanos(*bound).as_secs_f64();
            let _ = writeln!(out, "stackjwt_authz_check_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "stackjwt_authz_check_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = Duration::from_nanos(self.sum_ns.load(Relaxed)).as_secs_f64();
        let _ = writeln!(out, "stackjwt_authz_check_seconds_sum {sum}");
        let _ = writeln!(out, "stackjwt_authz_check_seconds_count {count}");
        out
    }
}

fn add(counter: Option<&AtomicU64>) {
    if let Some(c) = counter {
        c.fetch_add(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use stackjwt::Error;

    use super::*;

    #[test]
    fn outcomes_are_counted_by_principal_and_code_and_time() {
        let m = Metrics::default();
        let user = Caller::User { id: "u".into(), exp: None };
        let user = Ok(&user);
        m.record(user, Duration::from_nanos(800));
        m.record(user, Duration::from_nanos(3_000));
        m.record(Ok(&Caller::Anonymous), Duration::from_nanos(200));
        m.record(Err(&Refusal::Token(Error::Expired)), Duration::from_micros(20));
        m.record(Err(&Refusal::Token(Error::Malformed)), Duration::from_micros(2));
        m.record(Err(&Refusal::DuplicateHeader("authorization")), Duration::from_micros(2));
        m.record(Err(&Refusal::Token(Error::ScratchTooSmall { needed: 1 })), Duration::from_secs(2));
        let text = m.render();
        for line in [
            r#"stackjwt_authz_requests_total{outcome="allowed",principal="user"} 2"#,
            r#"stackjwt_authz_requests_total{outcome="allowed",principal="server"} 0"#,
            r#"stackjwt_authz_requests_total{outcome="allowed",principal="anonymous"} 1"#,
            r#"stackjwt_authz_requests_total{outcome="refused",code="5"} 2"#,
            r#"stackjwt_authz_requests_total{outcome="refused",code="40"} 1"#,
            r#"stackjwt_authz_requests_total{outcome="error",code="-1"} 1"#,
            r#"stackjwt_authz_check_seconds_bucket{le="0.000001"} 2"#,
            r#"stackjwt_authz_check_seconds_bucket{le="0.000005"} 5"#,
            r#"stackjwt_authz_check_seconds_bucket{le="0.000025"} 6"#,
            r#"stackjwt_authz_check_seconds_bucket{le="0.001"} 6"#,
            r#"stackjwt_authz_check_seconds_bucket{le="+Inf"} 7"#,
            r#"stackjwt_authz_check_seconds_count 7"#,
            r#"stackjwt_authz_check_seconds_sum 2.000028"#,
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
