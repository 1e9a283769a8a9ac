//! Counters for the forward-auth server, in Prometheus' text format: requests by app, outcome
//! and Stream code, a histogram of the time each check takes, and the server's own events
//! (configuration reloads, revocation resyncs, requests served from a stale mirror).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::{Caller, Refusal};

/// Histogram bucket bounds, in nanoseconds (1 us to 1 ms).
const BUCKETS_NS: [u64; 8] = [1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 1_000_000];
/// The Stream codes counted apart; any other code counts as `other`.
const CODES: [i32; 7] = [4, 5, 40, 41, 42, 43, -1];
const PRINCIPALS: [&str; 4] = ["user", "server", "dev", "anonymous"];
/// Every [`Refusal::reason`].
const REASONS: [&str; 22] = [
    "expired",
    "not_yet_valid",
    "issued_in_future",
    "signature",
    "revoked",
    "malformed",
    "algorithm",
    "kid",
    "missing_exp",
    "missing",
    "auth_type",
    "bearer",
    "dev",
    "anonymous_denied",
    "unknown_api_key",
    "not_allowed",
    "stale",
    "duplicate",
    "bad_header",
    "forwarded_uri",
    "unforwardable",
    "internal",
];

/// The `app` label of requests that name no configured app.
pub const UNKNOWN_APP: &str = "unknown";
/// The `app` label of a server's one app when it has no `api_key` (started without a file).
pub const DEFAULT_APP: &str = "default";

/// The forward-auth server's counters: one [`Counters`] per app (kept across reloads, so a
/// counter never goes back), and the server's own events. All updates are relaxed atomics:
/// a scrape may see one request counted and its latency not yet, never a torn value.
#[derive(Debug, Default)]
pub struct Metrics {
    apps: RwLock<Vec<(String, Arc<Counters>)>>,
    unknown: Arc<Counters>,
    reloads_ok: AtomicU64,
    reloads_error: AtomicU64,
    resyncs: AtomicU64,
    served_stale: AtomicU64,
}

/// A server event that [`Metrics`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A configuration reload that took effect.
    ReloadOk,
    /// A configuration reload refused (the old configuration kept serving).
    ReloadError,
    /// A full read of the revocation store.
    Resync,
    /// A token allowed while revocations could not be trusted (`unavailable = "allow"`).
    ServedStale,
}

/// A gauge [`Metrics::render`] adds: name, help, and its samples (labels, value).
#[derive(Debug)]
pub struct Gauge {
    /// The metric's name.
    pub name: &'static str,
    /// Its `# HELP` text.
    pub help: &'static str,
    /// Each sample's labels (`app="k1"`, or empty) and value.
    pub samples: Vec<(String, u64)>,
}

impl Metrics {
    /// The counters of the app labelled `label` (created on first use, then the same ones).
    #[must_use]
    pub fn app(&self, label: &str) -> Arc<Counters> {
        if label == UNKNOWN_APP {
            return Arc::clone(&self.unknown);
        }
        if let Some((_, c)) =
            self.apps.read().unwrap_or_else(std::sync::PoisonError::into_inner).iter().find(|(l, _)| l == label)
        {
            return Arc::clone(c);
        }
        let mut apps = self.apps.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, c)) = apps.iter().find(|(l, _)| l == label) {
            return Arc::clone(c);
        }
        let counters = Arc::new(Counters::default());
        apps.push((label.to_owned(), Arc::clone(&counters)));
        counters
    }

    /// The counters of requests that name no configured app.
    #[must_use]
    pub fn unknown(&self) -> &Counters {
        &self.unknown
    }

    /// Counts one event.
    pub fn count(&self, event: Event) {
        let counter = match event {
            Event::ReloadOk => &self.reloads_ok,
            Event::ReloadError => &self.reloads_error,
            Event::Resync => &self.resyncs,
            Event::ServedStale => &self.served_stale,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// Everything in Prometheus' text exposition format (version 0.0.4), with `gauges` after.
    #[must_use]
    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut out = String::with_capacity(4096);
        let apps = self.apps.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let all = || apps.iter().map(|(l, c)| (l.as_str(), &**c)).chain([(UNKNOWN_APP, &*self.unknown)]);
        out.push_str("# HELP stackjwt_authz_requests_total Checks, by app, outcome and Stream error code.\n");
        out.push_str("# TYPE stackjwt_authz_requests_total counter\n");
        for (label, c) in all() {
            c.render_requests(&mut out, label);
        }
        out.push_str("# HELP stackjwt_authz_refusals_total Refusals, by app and reason (revoked, expired, signature, stale, ...).\n");
        out.push_str("# TYPE stackjwt_authz_refusals_total counter\n");
        for (label, c) in all() {
            c.render_reasons(&mut out, label);
        }
        out.push_str("# HELP stackjwt_authz_check_seconds Time to find and check a request's credentials.\n");
        out.push_str("# TYPE stackjwt_authz_check_seconds histogram\n");
        for (label, c) in all() {
            c.render_histogram(&mut out, label);
        }
        let counters = [
            ("stackjwt_authz_config_reloads_total", "Configuration reloads (SIGHUP), by result.", None),
            (
                "stackjwt_authz_revocation_resyncs_total",
                "Full reads of every app's revocations from Redis.",
                Some(&self.resyncs),
            ),
            (
                "stackjwt_authz_served_stale_total",
                "Tokens allowed while revocations could not be trusted (unavailable = \"allow\").",
                Some(&self.served_stale),
            ),
        ];
        for (name, help, counter) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            match counter {
                Some(c) => {
                    let _ = writeln!(out, "{name} {}", c.load(Relaxed));
                }
                None => {
                    let _ = writeln!(out, "{name}{{result=\"ok\"}} {}", self.reloads_ok.load(Relaxed));
                    let _ = writeln!(out, "{name}{{result=\"error\"}} {}", self.reloads_error.load(Relaxed));
                }
            }
        }
        for gauge in gauges {
            let _ = writeln!(out, "# HELP {} {}\n# TYPE {} gauge", gauge.name, gauge.help, gauge.name);
            for (labels, value) in &gauge.samples {
                let labels = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
                let _ = writeln!(out, "{}{labels} {value}", gauge.name);
            }
        }
        out
    }
}

/// One app's request counters and check-time histogram.
#[derive(Debug, Default)]
pub struct Counters {
    allowed: [AtomicU64; PRINCIPALS.len()],
    refused: [AtomicU64; CODES.len() + 1],
    reasons: [AtomicU64; REASONS.len()],
    buckets: [AtomicU64; BUCKETS_NS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Counters {
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
                let reason = refusal.reason();
                add(REASONS.iter().position(|&r| r == reason).and_then(|i| self.reasons.get(i)));
            }
        }
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        if let Some(i) = BUCKETS_NS.iter().position(|&b| ns <= b) {
            add(self.buckets.get(i));
        }
        add(Some(&self.count));
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    fn render_requests(&self, out: &mut String, app: &str) {
        for (p, n) in PRINCIPALS.iter().zip(&self.allowed) {
            let _ = writeln!(
                out,
                "stackjwt_authz_requests_total{{app=\"{app}\",outcome=\"allowed\",principal=\"{p}\"}} {}",
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
                "stackjwt_authz_requests_total{{app=\"{app}\",outcome=\"{outcome}\",code=\"{code}\"}} {}",
                n.load(Relaxed)
            );
        }
    }

    fn render_reasons(&self, out: &mut String, app: &str) {
        for (reason, n) in REASONS.iter().zip(&self.reasons) {
            let _ =
                writeln!(out, "stackjwt_authz_refusals_total{{app=\"{app}\",reason=\"{reason}\"}} {}", n.load(Relaxed));
        }
    }

    fn render_histogram(&self, out: &mut String, app: &str) {
        let mut cumulative = 0u64;
        for (bound, n) in BUCKETS_NS.iter().zip(&self.buckets) {
            cumulative = cumulative.saturating_add(n.load(Relaxed));
            let le = Duration::from_nanos(*bound).as_secs_f64();
            let _ = writeln!(out, "stackjwt_authz_check_seconds_bucket{{app=\"{app}\",le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "stackjwt_authz_check_seconds_bucket{{app=\"{app}\",le=\"+Inf\"}} {count}");
        let sum = Duration::from_nanos(self.sum_ns.load(Relaxed)).as_secs_f64();
        let _ = writeln!(out, "stackjwt_authz_check_seconds_sum{{app=\"{app}\"}} {sum}");
        let _ = writeln!(out, "stackjwt_authz_check_seconds_count{{app=\"{app}\"}} {count}");
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
    fn every_reason_has_a_counter() {
        let refusals = [
            Refusal::Token(Error::Expired),
            Refusal::Token(Error::NotYetValid),
            Refusal::Token(Error::IssuedInFuture),
            Refusal::Token(Error::SignatureMismatch),
            Refusal::Token(Error::Revoked),
            Refusal::Token(Error::Malformed),
            Refusal::Token(Error::AlgorithmNotAllowed),
            Refusal::Token(Error::UnknownKid),
            Refusal::Token(Error::MissingExp),
            Refusal::Token(Error::MissingToken),
            Refusal::Token(Error::UnknownAuthType),
            Refusal::Token(Error::BearerPrefix),
            Refusal::Token(Error::DevTokenNotAllowed),
            Refusal::AnonymousDenied,
            Refusal::UnknownApiKey,
            Refusal::ApiKeyNotAllowed,
            Refusal::RevocationsUnavailable,
            Refusal::DuplicateHeader("authorization"),
            Refusal::InvalidHeaderValue("authorization"),
            Refusal::FragmentInForwardedUri,
            Refusal::UnforwardableUserId,
            Refusal::Token(Error::ClockBeforeEpoch),
        ];
        let reasons: Vec<&str> = refusals.iter().map(|r| r.reason()).collect();
        assert_eq!(reasons, REASONS, "one refusal of each reason, in REASONS' order");
    }

    #[test]
    fn outcomes_are_counted_by_principal_and_code_and_time() {
        let metrics = Metrics::default();
        let m = metrics.app("k1");
        let user = Caller::User { id: "u".into(), exp: None, iat: None };
        let user = Ok(&user);
        m.record(user, Duration::from_nanos(800));
        m.record(user, Duration::from_nanos(3_000));
        m.record(Ok(&Caller::Anonymous), Duration::from_nanos(200));
        m.record(Err(&Refusal::Token(Error::Expired)), Duration::from_micros(20));
        m.record(Err(&Refusal::Token(Error::Malformed)), Duration::from_micros(2));
        m.record(Err(&Refusal::DuplicateHeader("authorization")), Duration::from_micros(2));
        m.record(Err(&Refusal::Token(Error::ScratchTooSmall { needed: 1 })), Duration::from_secs(2));
        metrics.unknown().record(Err(&Refusal::UnknownApiKey), Duration::from_nanos(1));
        metrics.count(Event::ReloadOk);
        metrics.count(Event::ReloadError);
        metrics.count(Event::ReloadError);
        metrics.count(Event::Resync);
        metrics.count(Event::ServedStale);
        assert!(Arc::ptr_eq(&metrics.app("k1"), &m), "the same counters every time");
        let stale = Gauge { name: "g", help: "h", samples: vec![(String::new(), 1), ("app=\"k1\"".into(), 3)] };
        let text = metrics.render(&[stale]);
        for line in [
            r#"stackjwt_authz_requests_total{app="k1",outcome="allowed",principal="user"} 2"#,
            r#"stackjwt_authz_requests_total{app="k1",outcome="allowed",principal="server"} 0"#,
            r#"stackjwt_authz_requests_total{app="k1",outcome="allowed",principal="anonymous"} 1"#,
            r#"stackjwt_authz_requests_total{app="k1",outcome="refused",code="5"} 2"#,
            r#"stackjwt_authz_requests_total{app="k1",outcome="refused",code="40"} 1"#,
            r#"stackjwt_authz_requests_total{app="k1",outcome="error",code="-1"} 1"#,
            r#"stackjwt_authz_requests_total{app="unknown",outcome="refused",code="5"} 1"#,
            r#"stackjwt_authz_requests_total{app="unknown",outcome="allowed",principal="user"} 0"#,
            r#"stackjwt_authz_refusals_total{app="k1",reason="expired"} 1"#,
            r#"stackjwt_authz_refusals_total{app="k1",reason="malformed"} 1"#,
            r#"stackjwt_authz_refusals_total{app="k1",reason="duplicate"} 1"#,
            r#"stackjwt_authz_refusals_total{app="k1",reason="internal"} 1"#,
            r#"stackjwt_authz_refusals_total{app="k1",reason="revoked"} 0"#,
            r#"stackjwt_authz_refusals_total{app="unknown",reason="unknown_api_key"} 1"#,
            r#"stackjwt_authz_check_seconds_bucket{app="k1",le="0.000001"} 2"#,
            r#"stackjwt_authz_check_seconds_bucket{app="k1",le="0.000005"} 5"#,
            r#"stackjwt_authz_check_seconds_bucket{app="k1",le="0.000025"} 6"#,
            r#"stackjwt_authz_check_seconds_bucket{app="k1",le="0.001"} 6"#,
            r#"stackjwt_authz_check_seconds_bucket{app="k1",le="+Inf"} 7"#,
            r#"stackjwt_authz_check_seconds_count{app="k1"} 7"#,
            r#"stackjwt_authz_check_seconds_sum{app="k1"} 2.000028"#,
            r#"stackjwt_authz_check_seconds_count{app="unknown"} 1"#,
            r#"stackjwt_authz_config_reloads_total{result="ok"} 1"#,
            r#"stackjwt_authz_config_reloads_total{result="error"} 2"#,
            r#"stackjwt_authz_revocation_resyncs_total 1"#,
            r#"stackjwt_authz_served_stale_total 1"#,
            "# TYPE g gauge",
            "g 1",
            r#"g{app="k1"} 3"#,
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
