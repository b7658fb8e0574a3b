import { receiptOf, type RevocationReceipt } from '@app/sessions';
import { ApiProperty } from '@nestjs/swagger';

/**
 * What every revoking route answers, on the web API and the admin console alike: the command's
 * RevocationReceipt, field for field. A route that answers more (a reset token) extends it.
 */
export class RevocationReceiptResponse {
  @ApiProperty({ description: 'Sessions this request ended (sessionIds.length); 0 when none was active' }) revokedCount: number;
  @ApiProperty({ type: [String], format: 'uuid', description: 'Exactly the sessions this request ended, none ended before it; [] when none' })
  sessionIds: string[];
  @ApiProperty({
    description:
      'The instant written as their revocation time: from then on their access tokens are refused and their refresh tokens dead. When none ended, when the revocation ran',
  })
  effectiveAt: Date;
  @ApiProperty({
    description:
      "No access token of those sessions is valid by its own `exp` after this: how long a service that verifies tokens offline keeps their deny entries. An upper bound (the end of the revoking statement plus the access-token lifetime), never earlier than any of those tokens' expiry; equal to effectiveAt when none ended",
  })
  accessTokensValidUntil: Date;
}

export function toReceiptResponse(outcome: RevocationReceipt): RevocationReceiptResponse {
  const receipt = receiptOf(outcome);
  return { ...receipt, sessionIds: [...receipt.sessionIds] };
}
