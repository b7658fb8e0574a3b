import { parseFeedCursor } from '@app/sessions';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';

export const REVOCATION_FEED_PAGE_DEFAULT = 500;
export const REVOCATION_FEED_PAGE_MAX = 1000;

export class RevocationFeedQuery {
  @ApiPropertyOptional({
    description: 'The nextCursor of the previous poll; absent: from the oldest entry kept (what a verifier starting up needs)',
    example: '7423-118',
  })
  @IsOptional()
  @ValidateBy({
    name: 'isFeedCursor',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseFeedCursor(value) !== null,
      defaultMessage: () => 'after must be a nextCursor value returned by this endpoint',
    },
  })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: REVOCATION_FEED_PAGE_MAX, default: REVOCATION_FEED_PAGE_DEFAULT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(REVOCATION_FEED_PAGE_MAX)
  limit?: number;
}

export class RevocationFeedEntryResponse {
  @ApiProperty({ format: 'uuid' }) sessionId: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ format: 'date-time', description: 'When the session ended (its access tokens are refused here from then on)' })
  revokedAt: string;
  @ApiProperty({
    format: 'date-time',
    description: 'No access token of the session is valid by its own exp after this: keep the deny entry until then (the revocation receipt’s bound)',
  })
  accessTokensValidUntil: string;
}

export class RevocationFeedResponse {
  @ApiProperty({ type: [RevocationFeedEntryResponse], description: 'In feed order; empty when nothing new has committed' })
  revocations: RevocationFeedEntryResponse[];
  @ApiProperty({ description: 'Pass as `after` in the next poll (the same value when nothing was new)', example: '7423-118' })
  nextCursor: string;
}
