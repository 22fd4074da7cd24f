//! Full-text search over a site's chunks: SQLite FTS5 (BM25, the heading weighs double) or
//! Postgres tsvector (`ts_rank_cd`). The index itself is kept in step by the schema (FTS5
//! triggers, a generated tsvector column).

use super::{col, Backend, Result, Store};

/// Most rows a full-text query scores (before the site filter), see `selective_terms`.
const SCORED_ROWS_BUDGET: i64 = 4_000;

impl Store {
    /// Full-text search over the site's chunks: ids, best first, with the backend's relevance
    /// (higher is better). `terms` are plain words; any of them may match.
    pub async fn lexical_search(
        &self,
        site_id: &str,
        terms: &[String],
        k: usize,
    ) -> Result<Vec<(i64, f64)>> {
        let terms: Vec<&String> = terms
            .iter()
            .filter(|t| !t.is_empty() && t.chars().all(char::is_alphanumeric))
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let rows = match self.backend {
            Backend::Sqlite => {
                let terms = self.selective_terms(&terms).await?;
                // Quoted terms cannot be read as FTS5 operators; OR keeps BM25's ranking
                // over partial matches. The heading column weighs double.
                let query = terms
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                sqlx::query(
                    "select c.id as id, -bm25(chunks_fts, 2.0, 1.0) as score from chunks_fts \
                     join chunks c on c.id = chunks_fts.rowid \
                     where chunks_fts match $1 and c.site_id = $2 order by score desc limit $3",
                )
                .bind(query)
                .bind(site_id)
                .bind(k as i64)
                .fetch_all(&self.pool)
                .await?
            }
            Backend::Postgres => {
                let query = terms
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" | ");
                sqlx::query(
                    "select id, ts_rank_cd(tsv, q)::float8 as score \
                     from chunks, to_tsquery('english', $1) q \
                     where site_id = $2 and tsv @@ q order by score desc, id limit $3",
                )
                .bind(query)
                .bind(site_id)
                .bind(k as i64)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter()
            .map(|r| Ok((col::<i64>(r, "id")?, col::<f64>(r, "score")?)))
            .collect()
    }

    /// The query's words worth scoring: the rarest first, then more while the rows to score
    /// stay within [`SCORED_ROWS_BUDGET`], never a word found in more than 40% of all chunks
    /// (except to keep at least two words). BM25 gives common words an IDF near zero, so they
    /// barely move the ranking, but every chunk they match must be scored: on a 100k-chunk
    /// site that was most of a query's time. Counting a word's matches is cheap (no scoring).
    async fn selective_terms<'t>(&self, terms: &[&'t String]) -> Result<Vec<&'t String>> {
        let total: i64 = col(
            &sqlx::query("select max(id) as n from chunks")
                .fetch_one(&self.pool)
                .await?,
            "n",
        )
        .unwrap_or(0);
        if total < 50 || terms.len() <= 2 {
            return Ok(terms.to_vec());
        }
        let mut counted = Vec::with_capacity(terms.len());
        for t in terms {
            let row = sqlx::query("select count(*) as n from chunks_fts where chunks_fts match $1")
                .bind(format!("\"{t}\""))
                .fetch_one(&self.pool)
                .await?;
            counted.push((*t, col::<i64>(&row, "n")?));
        }
        // Rarest first: they decide the ranking. Words are added while the rows to score stay
        // within the budget, so the cost is bounded whatever the size of the site.
        counted.sort_by_key(|(_, n)| *n);
        let mut keep = Vec::with_capacity(counted.len());
        let mut rows = 0;
        for (t, n) in counted {
            let common = (n as f64) > 0.4 * total as f64;
            if keep.len() >= 2 && (common || rows + n > SCORED_ROWS_BUDGET) {
                break;
            }
            rows += n;
            keep.push(t);
        }
        Ok(keep)
    }
}
