<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

/**
 * php/bin/stask-doctor without Laravel: the database, prefix and storage
 * come from the options, else the engine's own settings (STASK_DSN /
 * stask.dsn, STASK_TABLE_PREFIX / stask.table_prefix, STASK_STORAGE /
 * stask.storage_path, as the standalone server uses them).
 */
final class StandaloneHost implements Host
{
    private string $dsn;

    private string $prefix;

    private string $storage;

    public function __construct(array $options = [])
    {
        $this->dsn = (string) ($options['dsn'] ?? self::setting('STASK_DSN', 'stask.dsn'));
        $this->prefix = (string) ($options['prefix'] ?? self::setting('STASK_TABLE_PREFIX', 'stask.table_prefix'));
        $base = (string) (self::setting('STASK_BASE_PATH', 'stask.base_path') ?: getcwd());
        $this->storage = (string) ($options['storage'] ?? (self::setting('STASK_STORAGE', 'stask.storage_path') ?: $base . '/storage/stask'));
    }

    private static function setting(string $env, string $ini): string
    {
        $value = getenv($env);
        if (is_string($value) && trim($value) !== '') {
            return trim($value);
        }

        return trim((string) ini_get($ini));
    }

    /** @return array{driver:string,user:string,pass:string,host:string,port:string,db:string,path:string} */
    private function parts(): array
    {
        if ($this->dsn === '') {
            throw new \RuntimeException('no database is configured');
        }
        if (str_starts_with($this->dsn, 'sqlite://')) {
            return ['driver' => 'sqlite', 'user' => '', 'pass' => '', 'host' => '', 'port' => '', 'db' => '', 'path' => substr($this->dsn, 9)];
        }
        $url = parse_url($this->dsn);
        if (!is_array($url) || !isset($url['scheme'], $url['host'])) {
            throw new \RuntimeException('cannot read the DSN (expected mysql://user:pass@host:port/db or postgres://user:pass@host:port/db)');
        }
        $driver = match (strtolower($url['scheme'])) {
            'mysql', 'mariadb' => 'mysql',
            'postgres', 'postgresql', 'pgsql' => 'pgsql',
            default => throw new \RuntimeException("unsupported DSN scheme {$url['scheme']}"),
        };

        return [
            'driver' => $driver,
            'user' => rawurldecode((string) ($url['user'] ?? '')),
            'pass' => rawurldecode((string) ($url['pass'] ?? '')),
            'host' => (string) $url['host'],
            'port' => (string) ($url['port'] ?? ($driver === 'mysql' ? 3306 : 5432)),
            'db' => ltrim((string) ($url['path'] ?? ''), '/'),
            'path' => '',
        ];
    }

    public function pdo(): \PDO
    {
        $p = $this->parts();
        if ($p['driver'] === 'sqlite') {
            if (!is_file($p['path'])) {
                throw new \RuntimeException("the SQLite file {$p['path']} does not exist");
            }

            return new \PDO('sqlite:' . $p['path']);
        }
        $dsn = "{$p['driver']}:host={$p['host']};port={$p['port']};dbname={$p['db']}";

        return new \PDO($dsn, $p['user'], $p['pass'], [\PDO::ATTR_TIMEOUT => 5]);
    }

    public function describeDatabase(): string
    {
        try {
            $p = $this->parts();
        } catch (\Throwable $e) {
            return 'the database (' . $e->getMessage() . ')';
        }

        return $p['driver'] === 'sqlite' ? 'sqlite ' . $p['path'] : "{$p['driver']} {$p['user']}@{$p['host']}:{$p['port']}/{$p['db']}";
    }

    public function configurationError(): ?string
    {
        return null;
    }

    public function databaseFix(): string
    {
        return 'set STASK_DSN (or stask.dsn in php.ini, or --dsn=) to sqlite:///abs/path.sqlite, mysql://user:pass@host:port/db '
            . 'or postgres://user:pass@host:port/db, with a server that is running and accepts that user';
    }

    public function tablePrefix(): string
    {
        return $this->prefix;
    }

    public function storagePath(): string
    {
        return $this->storage;
    }

    public function migrateCommand(): string
    {
        return "php -d extension=stask -r 'Seiger\\sTask\\Facades\\sTask::migrate();' with the same STASK_* settings";
    }

    public function scheduleRegistered(): ?bool
    {
        return null;
    }

    public function cronLine(): ?string
    {
        return null;
    }

    public function appTimezone(): ?string
    {
        return null;
    }

    public function hasWebModule(): bool
    {
        return false;
    }

    public function probeUrl(): ?string
    {
        return null;
    }
}
