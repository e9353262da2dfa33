//! Reading the audit trail: filtered, keyset-paged lists (newest first) and exports. Only
//! super admins read it (`policy::can_view_audit`): it names every account and records
//! sign-in attempts with their source addresses.
use crate::backend::{Backend, Ctx};
use crate::domain::audit::{AuditEntry, AuditFilter, AuditPage, AuditQuery, AuditSeek, ExportFormat};
use crate::domain::error::Error;
use crate::domain::policy;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;
/// Rows per query while exporting: large enough to amortise the query, small enough that an
/// export of a million events never holds more than this many in memory.
pub const EXPORT_BATCH: u32 = 1000;

pub async fn list(b: &Backend, ctx: &Ctx, q: &AuditQuery, limit: Option<u32>) -> Result<AuditPage, Error> {
    policy::can_view_audit(ctx.actor()?).map_err(Error::Forbidden)?;
    let (filter, seek) = q.validate()?;
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let mut events = b.store.list_audit(&filter, seek, limit + 1).await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    if matches!(seek, AuditSeek::After(_)) {
        events.reverse();
    }
    let newest = events.first().map(|e| e.id);
    let oldest = events.last().map(|e| e.id);
    // A cursor came from a neighbouring page, so that side is known to have events without
    // asking the database again; the side walked towards has more if the extra row came.
    let (newer, older) = match seek {
        AuditSeek::Newest => (None, if more { oldest } else { None }),
        AuditSeek::Before(_) => (newest, if more { oldest } else { None }),
        AuditSeek::After(_) => (if more { newest } else { None }, oldest),
    };
    Ok(AuditPage { events, older, newer })
}

/// An export in progress: the checks are done when it is created (so refusals and invalid
/// filters are answered before any byte is sent), then `next_chunk` pages through the matching
/// events oldest-ward in keyset batches of `EXPORT_BATCH`. The newest first, like the list;
/// events written during the export are newer than its start and are not included.
pub struct Export {
    backend: Backend,
    filter: AuditFilter,
    format: ExportFormat,
    seek: AuditSeek,
    started: bool,
    done: bool,
}

pub async fn export(b: &Backend, ctx: &Ctx, q: &AuditQuery, format: ExportFormat) -> Result<Export, Error> {
    policy::can_view_audit(ctx.actor()?).map_err(Error::Forbidden)?;
    let (filter, seek) = q.validate()?;
    // A cursor narrows an export like a page: events older than `before`, or all events newer
    // than `after` would need a second direction — refuse it instead of guessing.
    if matches!(seek, AuditSeek::After(_)) {
        return Err(Error::invalid("after", "Exports run from the newest event back; use `before` or no cursor."));
    }
    Ok(Export { backend: b.clone(), filter, format, seek, started: false, done: false })
}

impl Export {
    pub fn format(&self) -> ExportFormat {
        self.format
    }

    /// The next piece of the file (the header with the first batch), `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, Error> {
        if self.done {
            return Ok(None);
        }
        let rows: Vec<AuditEntry> = self.backend.store.list_audit(&self.filter, self.seek, EXPORT_BATCH).await?;
        let mut out = String::new();
        if !self.started {
            self.started = true;
            out.push_str(self.format.header());
        }
        for e in &rows {
            self.format.write(e, &mut out);
        }
        match rows.last() {
            Some(last) if rows.len() == EXPORT_BATCH as usize => self.seek = AuditSeek::Before(last.id),
            _ => self.done = true,
        }
        if out.is_empty() {
            return Ok(None);
        }
        Ok(Some(out))
    }
}
