import { Migration } from '@mikro-orm/migrations';

// Background CSV imports (issue 23: a million leads; issue 18: addresses). The
// uploaded file is kept as ordered chunks of bytes (the API streams it in, the
// worker streams it out: neither holds the file), its progress counters live
// on the job, rejected rows with their reasons in a table of their own, and
// import_job_key remembers the first row of every email / external id seen so
// far, so duplicates inside a file are found across batches (unlogged: it is
// scratch, dropped when the job ends). lead.external_id is the client's own id.
export class Migration20261203060000_import_jobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "lead" add column "external_id" text null;`);
    this.addSql(`alter table "lead" add constraint "lead_external_id_unique" unique ("external_id");`);
    this.addSql(
      `create table "import_job" ("id" serial primary key, "kind" text not null, "status" text not null, "on_duplicate" text not null, "encoding" text null, "bytes" int8 not null default 0, "columns" text[] not null default '{}', "rows_read" int not null default 0, "inserted" int not null default 0, "updated" int not null default 0, "skipped" int not null default 0, "rejected" int not null default 0, "committed_row" int not null default 1, "error" text null, "created_by" text null, "created_at" timestamptz not null default now(), "started_at" timestamptz null, "finished_at" timestamptz null, "updated_at" timestamptz not null default now(), constraint "import_job_kind_check" check ("kind" in ('leads', 'addresses')), constraint "import_job_status_check" check ("status" in ('receiving', 'queued', 'running', 'completed', 'failed', 'cancelled')));`,
    );
    this.addSql(`create index "import_job_kind_idx" on "import_job" ("kind", "id" desc);`);
    this.addSql(
      `create table "import_job_chunk" ("import_id" int not null references "import_job" ("id") on delete cascade, "seq" int not null, "data" bytea not null, primary key ("import_id", "seq"));`,
    );
    this.addSql(
      `create table "import_job_rejected" ("import_id" int not null references "import_job" ("id") on delete cascade, "row_no" int not null, "field" text not null, "reason" text not null, "cells" text[] not null, primary key ("import_id", "row_no"));`,
    );
    this.addSql(
      `create unlogged table "import_job_key" ("import_id" int not null, "key" text not null, "first_row" int not null, primary key ("import_id", "key"));`,
    );
    // Operators' decisions on an address: why, and which API key made them (issue 18).
    this.addSql(`alter table "address_status" add column "note" text null;`);
    this.addSql(`alter table "address_status" add column "changed_by" text null;`);
    this.addSql(`create index "address_status_status_idx" on "address_status" ("status", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "address_status_status_idx";`);
    this.addSql(`alter table "address_status" drop column if exists "changed_by";`);
    this.addSql(`alter table "address_status" drop column if exists "note";`);
    this.addSql(`drop table if exists "import_job_key";`);
    this.addSql(`drop table if exists "import_job_rejected";`);
    this.addSql(`drop table if exists "import_job_chunk";`);
    this.addSql(`drop table if exists "import_job";`);
    this.addSql(`alter table "lead" drop constraint if exists "lead_external_id_unique";`);
    this.addSql(`alter table "lead" drop column if exists "external_id";`);
  }
}
