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
}
