//! Bearer-token authentication of the standalone API. A host that already
//! authenticated the user (the CMS manager session, with permission and
//! CSRF checks) says so with `Auth::Trusted`; everything else must carry
//! the configured token, and with no token configured the API refuses to
//! serve at all rather than run open.

use crate::engine::api::json::ApiError;
use crate::engine::api::{Auth, Request};
use crate::engine::config::ApiSettings;

pub fn check(req: &Request, settings: &ApiSettings) -> Result<(), ApiError> {
    match &req.auth {
        Auth::Trusted { .. } => Ok(()),
        Auth::Bearer => {
            let Some(expected) = settings.token.as_deref() else {
                return Err(ApiError::new(
                    503,
                    "API token not configured",
                    "The sTask API is disabled until a token is configured: set stask.api_token (php.ini) or STASK_API_TOKEN (environment)",
                ));
            };
            let given = req.header("authorization").and_then(bearer_token).unwrap_or("");
            if given.is_empty() || !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                return Err(ApiError::new(
                    401,
                    "Unauthorized",
                    "A valid bearer token is required (Authorization: Bearer <token>)",
                )
                .header("WWW-Authenticate", "Bearer realm=\"stask\""));
            }
            Ok(())
        }
    }
}

/// `Bearer <token>` (scheme case-insensitive, as RFC 6750 allows).
fn bearer_token(header: &str) -> Option<&str> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// Compares without an early exit, so the time taken does not tell how
/// much of a guess was right. The length is not secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    // Keep the optimiser from short-cutting the loop.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(constant_time_eq(b"secret-token", b"secret-token"));
        assert!(!constant_time_eq(b"secret-token", b"secret-tokeN"));
        assert!(!constant_time_eq(b"secret", b"secret-token"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn the_bearer_scheme_is_required() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("abc"), None);
    }
}
