import { type AuditEntry, type AuditFilter, canonicalIp, SessionDirectory } from '@app/sessions';
import { ConsoleAdminsOnly } from '../console-auth/console-access';
import { ApiProblem } from '@app/platform';
import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { AUDIT_PAGE_DEFAULT, AuditExportParams, AuditFilterParams, AuditPageResponse, AuditQueryParams } from '../dto/admin.dto';
import { AUDIT_EXPORT_MEDIA_TYPES, auditExportFilename, auditExportStream } from './audit-export';

/** The audit trail, read a page at a time or exported whole. Admins only. */
@ApiTags('admin')
@ConsoleAdminsOnly()
@ApiProblem(503)
@Controller('admin/audit')
export class AuditController {
  constructor(private readonly directory: SessionDirectory) {}

  @Get()
  @ApiOperation({ summary: 'The audit trail, newest first, a page at a time; every filter given must hold' })
  @ApiOkResponse({ type: AuditPageResponse, description: 'One page of entries, and the cursor of the next' })
  async queryAudit(@Query() query: AuditQueryParams): Promise<AuditPageResponse> {
    const page = await this.directory.queryAudit({ ...toAuditFilter(query), limit: query.limit ?? AUDIT_PAGE_DEFAULT, before: query.cursor });
    return { entries: page.entries.map(toView), nextCursor: page.nextCursor };
  }

  @Get('export')
  @ApiOperation({
    summary:
      'Every entry the filters match, newest first (the order of GET /admin/audit), streamed as NDJSON or CSV (RFC 4180, header row, details as JSON; a cell that a spreadsheet would run as a formula starts with an apostrophe)',
  })
  @ApiProduces(AUDIT_EXPORT_MEDIA_TYPES.ndjson, AUDIT_EXPORT_MEDIA_TYPES.csv)
  @ApiOkResponse({
    description: 'The entries, as a download (Content-Disposition: attachment; filename="audit-<instant>.<format>")',
    schema: { type: 'string' },
  })
  async exportAudit(@Query() query: AuditExportParams): Promise<StreamableFile> {
    const stream = await auditExportStream(query.format, this.directory.auditPages(toAuditFilter(query)));
    return new StreamableFile(stream, {
      type: AUDIT_EXPORT_MEDIA_TYPES[query.format],
      disposition: `attachment; filename="${auditExportFilename(query.format, new Date())}"`,
    });
  }
}

/** The query's filters as the library takes them: ids in lower case, the address in its recorded (canonical) form. */
function toAuditFilter(query: AuditFilterParams): AuditFilter {
  return {
    userId: query.userId?.toLowerCase(),
    actorId: query.actorId?.toLowerCase(),
    action: query.action,
    outcome: query.outcome,
    // IsIP passed it, so canonicalIp has a form for it; the fallback only keeps the filter from vanishing.
    ipAddress: query.ipAddress === undefined ? undefined : (canonicalIp(query.ipAddress) ?? query.ipAddress),
    sessionId: query.sessionId?.toLowerCase(),
    correlationId: query.correlationId?.toLowerCase(),
    requestId: query.requestId,
    from: query.from === undefined ? undefined : new Date(query.from),
    to: query.to === undefined ? undefined : new Date(query.to),
  };
}

function toView(entry: AuditEntry): AuditPageResponse['entries'][number] {
  return { ...entry, details: { ...entry.details } };
}
