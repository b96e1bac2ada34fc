//! Failure-count rate limiting on top of the [`ThrottleRepository`] port.

use chrono::{DateTime, Utc};
use std::time::Duration;

use crate::error::{CoreError, CoreResult};
use crate::ports::ThrottleRepository;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limit {
    pub max_failures: u32,
    pub window: chrono::Duration,
}

/// Refuses with `Throttled` while `key` has reached its limit in the current window.
pub(crate) async fn check(
    repo: &dyn ThrottleRepository,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    if let Some(state) = repo.throttle_state(key).await? {
        let window_end = state.window_started_at + limit.window;
        if state.failures >= limit.max_failures && now < window_end {
            let wait = (window_end - now)
                .to_std()
                .unwrap_or(Duration::from_secs(1));
            // Round up so a client waiting exactly Retry-After seconds gets through.
            let retry_after =
                Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
            return Err(CoreError::Throttled { retry_after });
        }
    }
    Ok(())
}

/// Failures recorded on `key` in its current window (0 once the window is over).
pub(crate) async fn failures(
    repo: &dyn ThrottleRepository,
    key: &str,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> CoreResult<u32> {
    Ok(match repo.throttle_state(key).await? {
        Some(state) if now < state.window_started_at + window => state.failures,
        _ => 0,
    })
}

pub(crate) async fn fail(
    repo: &dyn ThrottleRepository,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    repo.record_failure(key, now, now - limit.window).await?;
    Ok(())
}
