import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { UserRole } from '../../domain/records';

@Entity({ name: 'users' })
export class UserOrmEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  @Column({ type: 'varchar', length: 16 })
  role: UserRole;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'password_reset_required_at', type: 'timestamptz', nullable: true })
  passwordResetRequiredAt: Date | null;

  // Never read back into a record: the hash of a secret has no business outside its one statement.
  @Column({ name: 'password_reset_token_hash', type: 'bytea', nullable: true, select: false })
  passwordResetTokenHash: Buffer | null;

  @Column({ name: 'password_reset_expires_at', type: 'timestamptz', nullable: true, select: false })
  passwordResetExpiresAt: Date | null;
}
