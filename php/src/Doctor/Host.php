<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

/**
 * What stask:doctor needs from the application it runs in: the Laravel or
 * Evolution host (LaravelHost) or a site without Laravel (StandaloneHost).
 * Nothing here needs the stask extension.
 */
interface Host
{
    /** A connection to the database sTask uses; throws when it cannot connect. */
    public function pdo(): \PDO;

    /** e.g. "pgsql postgres@127.0.0.1:5432/test (connection 'pgsql')", without the password. */
    public function describeDatabase(): string;

    /** Why sTask could not be configured at boot (the host's settings), or null. */
    public function configurationError(): ?string;

    /** What to change when the database cannot be reached (where its settings live). */
    public function databaseFix(): string;

    /** The table prefix sTask's tables carry. */
    public function tablePrefix(): string;

    /** sTask's storage folder (uploads, logs, SQLite file). */
    public function storagePath(): string;

    /** The command that creates or converts sTask's tables here. */
    public function migrateCommand(): string;

    /** True/false when the host can tell whether stask:worker is in its schedule; null when it has no schedule. */
    public function scheduleRegistered(): ?bool;

    /** The line cron needs (or null without a scheduler). */
    public function cronLine(): ?string;

    /** The application's timezone setting, or null when it has none. */
    public function appTimezone(): ?string;

    /** Whether a module reports the web server's PHP here (the Laravel/Evolution routes). */
    public function hasWebModule(): bool;

    /** The URL of the web probe route (GET {prefix}/doctor), or null when unknown. */
    public function probeUrl(): ?string;
}
