//! What every `/api/v1` handler shares: JSON bodies and query strings whose rejections use the
//! API's error body, and cursor pagination `{items, next_cursor}` on every list.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::Json;
use concierge_protocol::ErrorCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A JSON body; a malformed one is a 400 `bad_frame` with the API's error body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(ApiError::new(ErrorCode::BadFrame, e.body_text())),
        }
    }
}

/// A query string; a malformed one is a 400 `bad_frame` with the API's error body.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::new(ErrorCode::BadFrame, e.body_text())),
        }
    }
}

/// `?cursor=...&limit=N` of a list. (Strings, so the query can be flattened into a list's
/// own filters: serde's flatten hands numbers over as text.)
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

impl PageQuery {
    /// The page size asked for, within 1..=MAX_LIMIT.
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit.as_deref().map(str::trim) {
            None | Some("") => Ok(DEFAULT_LIMIT),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::BadFrame,
                        format!("limit must be a number from 1 to {MAX_LIMIT}"),
                    )
                }),
        }
    }

    /// The cursor, if any, non-empty.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|c| !c.is_empty())
    }
}

/// One page of a list (the wire shape of [`concierge_protocol::api::Page`]; lists whose rows
/// have a protocol type use it as `T`).
#[derive(Debug, Serialize)]
pub struct Page<T = Value> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> From<Page<T>> for concierge_protocol::api::Page<T> {
    fn from(p: Page<T>) -> Self {
        concierge_protocol::api::Page {
            items: p.items,
            next_cursor: p.next_cursor,
        }
    }
}

pub fn bad_cursor() -> ApiError {
    ApiError::new(
        ErrorCode::BadFrame,
        "invalid cursor: pass back the next_cursor of the previous page",
    )
}

impl<T> Page<T> {
    /// Pages through a list loaded whole (short lists: tokens, agents, sites, documents). The
    /// cursor is the position of the next item.
    pub fn slice(items: Vec<T>, q: &PageQuery) -> Result<Json<Page<T>>, ApiError> {
        let limit = q.limit()? as usize;
        let start = match q.cursor() {
            None => 0,
            Some(c) => c
                .strip_prefix('o')
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(bad_cursor)?,
        };
        let total = items.len();
        let items: Vec<T> = items.into_iter().skip(start).take(limit).collect();
        let end = start + items.len();
        Ok(Json(Page {
            items,
            next_cursor: (end < total).then(|| format!("o{end}")),
        }))
    }
}

impl<T> Page<T> {
    /// A page read with `limit + 1` rows from a keyset query: the extra row only says there
    /// is more; the cursor is `cursor_of` the last row shown.
    pub fn keyset<R>(
        mut rows: Vec<R>,
        limit: i64,
        cursor_of: impl Fn(&R) -> String,
        view: impl Fn(&R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Page {
            next_cursor: if more {
                rows.last().map(&cursor_of)
            } else {
                None
            },
            items: rows.iter().map(view).collect(),
        }
    }
}

/// Keyset cursors `(time, id)` as opaque text.
pub fn encode_cursor(at: i64, id: &str) -> String {
    format!("{at}.{id}")
}

pub fn decode_cursor(cursor: &str) -> Result<(i64, String), ApiError> {
    let (at, id) = cursor.split_once('.').ok_or_else(bad_cursor)?;
    let at = at.parse::<i64>().map_err(|_| bad_cursor())?;
    if id.is_empty() || id.len() > 100 {
        return Err(bad_cursor());
    }
    Ok((at, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slices_page_through_a_whole_list_and_end_with_no_cursor() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let q = PageQuery {
            cursor: None,
            limit: Some("2".into()),
        };
        let p1 = Page::slice(items.clone(), &q).unwrap().0;
        assert_eq!(p1.items, vec![json!(0), json!(1)]);
        let q2 = PageQuery {
            cursor: p1.next_cursor,
            limit: Some("2".into()),
        };
        let p2 = Page::slice(items.clone(), &q2).unwrap().0;
        let q3 = PageQuery {
            cursor: p2.next_cursor,
            limit: Some("2".into()),
        };
        let p3 = Page::slice(items, &q3).unwrap().0;
        assert_eq!(p3.items, vec![json!(4)]);
        assert_eq!(p3.next_cursor, None);
    }

    #[test]
    fn bad_limits_and_cursors_are_refused() {
        for limit in ["0", "201", "x"] {
            let q = PageQuery {
                cursor: None,
                limit: Some(limit.into()),
            };
            assert!(q.limit().is_err(), "{limit}");
        }
        assert!(decode_cursor("nope").is_err());
        assert_eq!(decode_cursor("12.abc").unwrap(), (12, "abc".into()));
    }
}
