import { ApiProblem } from '@app/platform';
import { REVOCATION_FEED, type RevocationFeed } from '@app/sessions';
import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { REVOCATION_FEED_PAGE_DEFAULT, RevocationFeedQuery, RevocationFeedResponse } from './dto/revocations.dto';
import { SERVICE_CLIENT_SCHEME, ServiceClientGuard } from './service-client.guard';

/**
 * The revocation feed, for services that verify access tokens offline (issue 13 point 7): every
 * committed revocation, once, in an order no late commit can slip behind (see the library's
 * readRevocationFeedSql). A poll with nothing new is one index probe.
 */
@ApiTags('revocations')
@Controller('revocations')
@UseGuards(ServiceClientGuard)
export class RevocationsController {
  constructor(@Inject(REVOCATION_FEED) private readonly feed: RevocationFeed) {}

  @Get()
  @ApiBearerAuth(SERVICE_CLIENT_SCHEME)
  @ApiOperation({
    summary: 'Sessions revoked since a cursor, for services that verify tokens offline; authenticated with a service client secret (SERVICE_CLIENTS)',
    description:
      'Poll with the previous nextCursor. Each entry is a session whose access tokens must be refused until accessTokensValidUntil. Entries stay in the feed until their accessTokensValidUntil has passed (the purge then deletes them). A user access token is refused here.',
  })
  @ApiOkResponse({ type: RevocationFeedResponse, description: 'The revocations committed after the cursor, and the next cursor' })
  @ApiProblem(400, 'after is not a cursor of this feed, or limit is out of range')
  @ApiProblem(401, 'No service client secret, or not one of SERVICE_CLIENTS')
  @ApiProblem(503)
  async revocations(@Query() query: RevocationFeedQuery): Promise<RevocationFeedResponse> {
    const page = await this.feed.read(query.after, query.limit ?? REVOCATION_FEED_PAGE_DEFAULT);
    return {
      revocations: page.revocations.map((entry) => ({
        sessionId: entry.sessionId,
        userId: entry.userId,
        revokedAt: entry.revokedAt.toISOString(),
        accessTokensValidUntil: entry.accessTokensValidUntil.toISOString(),
      })),
      nextCursor: page.nextCursor,
    };
  }
}
