<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

use Seiger\sTask\Support\ExtensionVersion;

/** stask:doctor inside Laravel or Evolution CMS: the host's default connection, storage, schedule and URL. */
final class LaravelHost implements Host
{
    public function __construct(private readonly object $app)
    {
    }

    private function config(string $key, mixed $default = null): mixed
    {
        try {
            return $this->app->make('config')->get($key, $default);
        } catch (\Throwable) {
            return $default;
        }
    }

    private function connectionName(): string
    {
        return (string) $this->config('database.default', '');
    }

    private function connection(): array
    {
        $connection = $this->config('database.connections.' . $this->connectionName());

        return is_array($connection) ? $connection : [];
    }

    /** The provider's rule: an in-memory SQLite host keeps sTask's tables in <storage>/stask.sqlite. */
    private function engineSqliteFile(): ?string
    {
        $c = $this->connection();
        if (($c['driver'] ?? '') === 'sqlite' && in_array($c['database'] ?? ':memory:', [':memory:', ''], true)) {
            return $this->storagePath() . '/stask.sqlite';
        }

        return null;
    }

    public function pdo(): \PDO
    {
        $file = $this->engineSqliteFile();
        if ($file !== null) {
            if (!is_file($file)) {
                throw new \RuntimeException("{$file} does not exist");
            }

            return new \PDO('sqlite:' . $file);
        }
        $c = $this->connection();
        if (($c['driver'] ?? '') === 'sqlite' && !is_file((string) ($c['database'] ?? ''))) {
            // PDO would create an empty file: a wrong path is an error here.
            throw new \RuntimeException('the SQLite file ' . ($c['database'] ?? '') . ' does not exist');
        }

        return $this->app->make('db')->connection($this->connectionName())->getPdo();
    }

    public function describeDatabase(): string
    {
        $c = $this->connection();
        $driver = (string) ($c['driver'] ?? '?');
        $name = $this->connectionName();
        if ($driver === 'sqlite') {
            return 'sqlite ' . ($this->engineSqliteFile() ?? ($c['database'] ?? '?')) . " (connection '{$name}')";
        }

        return $driver . ' ' . ($c['username'] ?? '') . '@' . ($c['host'] ?? '?') . (isset($c['port']) ? ':' . $c['port'] : '')
            . '/' . ($c['database'] ?? '?') . " (connection '{$name}')";
    }

    public function configurationError(): ?string
    {
        $key = \Seiger\sTask\sTaskServiceProvider::CONFIGURATION_ERROR;
        try {
            return $this->app->bound($key) ? (string) $this->app->make($key) : null;
        } catch (\Throwable) {
            return null;
        }
    }

    public function databaseFix(): string
    {
        $name = $this->connectionName();

        return "check the connection '{$name}' in the application's config/database.php and its .env "
            . '(DB_HOST, DB_PORT, DB_DATABASE, DB_USERNAME, DB_PASSWORD): is the server running, and does it accept this user from this host?';
    }

    public function tablePrefix(): string
    {
        // The engine's own answer when it runs here (stask.table_prefix may override the connection's).
        if (ExtensionVersion::compatible()) {
            try {
                $config = \Seiger\sTask\Facades\sTask::config();
                if (is_array($config) && isset($config['table_prefix'])) {
                    return (string) $config['table_prefix'];
                }
            } catch (\Throwable) {
                // Not configured: the connection's prefix below.
            }
        }

        return (string) ($this->connection()['prefix'] ?? '');
    }

    public function storagePath(): string
    {
        return function_exists('storage_path') ? (string) storage_path('stask') : sys_get_temp_dir() . '/stask';
    }

    public function migrateCommand(): string
    {
        return 'php artisan migrate' . (defined('EVO_CORE_PATH') ? ' (in the core folder)' : '');
    }

    public function scheduleRegistered(): ?bool
    {
        $class = 'Illuminate\Console\Scheduling\Schedule';
        if (!class_exists($class)) {
            return null;
        }
        try {
            $schedule = $this->app->make($class);
        } catch (\Throwable) {
            return null;
        }
        foreach ($schedule->events() as $event) {
            if (str_contains((string) ($event->command ?? ''), 'stask:worker') || str_contains((string) ($event->command ?? ''), 'stask:work')) {
                return true;
            }
        }

        return false;
    }

    public function cronLine(): ?string
    {
        $base = function_exists('base_path') ? (string) base_path() : getcwd();

        return '* * * * * cd ' . $base . ' && ' . PHP_BINARY . ' artisan schedule:run >> /dev/null 2>&1';
    }

    public function appTimezone(): ?string
    {
        $tz = $this->config('app.timezone');

        return is_string($tz) && $tz !== '' ? $tz : null;
    }

    public function hasWebModule(): bool
    {
        return true;
    }

    public function probeUrl(): ?string
    {
        try {
            if (!$this->app->bound('router') || !$this->app->make('router')->has('sTask.doctor') || !function_exists('route')) {
                return null;
            }
            $url = route('sTask.doctor');

            return is_string($url) && preg_match('#^https?://#', $url) ? $url : null;
        } catch (\Throwable) {
            return null;
        }
    }
}
