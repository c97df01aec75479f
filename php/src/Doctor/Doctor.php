<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

use Seiger\sTask\Support\ExtensionVersion;

/**
 * The checks of `php artisan stask:doctor` and `php/bin/stask-doctor`: one
 * Check per line, each failure with its fix. Runs without the extension
 * (the database through PDO, the rest through PHP itself).
 */
final class Doctor
{
    /** A worker counts as alive when the newest heartbeat is at most this old (seconds). */
    public const DEFAULT_STALE = 300;

    /** Below this, a worker may run out of memory on a large task. */
    private const MIN_MEMORY = 256 * 1024 * 1024;

    /** Tables the engine needs, and a column only its migration adds to each. */
    private const TABLES = [
        's_tasks' => 'schedule_slot',
        's_workers' => 'identifier',
        's_task_leaders' => 'expires_at',
        's_task_schedules' => 'evaluated_at',
        's_task_processes' => 'heartbeat_at',
        's_task_attempts' => 'outcome',
    ];

    private ?\PDO $pdo = null;

    private bool $tablesOk = false;

    public function __construct(
        private readonly Host $host,
        private readonly int $stale = self::DEFAULT_STALE,
        private readonly bool $askWebServer = true,
        private readonly ?string $url = null,
    ) {
    }

    /** @return list<Check> */
    public function run(): array
    {
        $checks = [$this->extension(), $this->webServer(), $this->database()];
        $checks[] = $this->tables();
        $checks[] = $this->storage();
        $checks[] = $this->workers();
        $checks[] = $this->schedule();
        $checks[] = $this->timezone();
        $checks[] = $this->memoryLimit();
        $checks[] = $this->maxExecutionTime();

        return $checks;
    }

    /**
     * Where a worker's last sign of life is read from, newest wins. A
     * registry of worker processes goes first here once the engine has one.
     *
     * @return list<Heartbeat>
     */
    public function heartbeats(): array
    {
        return [new LeaderLeaseHeartbeat(), new NewestTaskHeartbeat()];
    }

    private function extension(): Check
    {
        $name = 'extension';
        $here = 'this PHP (' . PHP_SAPI . ' ' . PHP_VERSION . ', ' . PHP_BINARY . ')';
        $loaded = ExtensionVersion::loaded();
        if ($loaded === null) {
            return Check::fail(
                $name,
                "stask is not loaded in {$here}",
                'install it (pie install seiger/stask-ext, or cd ext && phpize && ./configure && make && sudo make install, '
                . 'or the release archive\'s stask.so) and add "extension=stask" to ' . self::iniTarget()
                . '; php -m | grep stask checks it'
            );
        }
        if (!ExtensionVersion::compatible()) {
            return Check::fail($name, "stask {$loaded} is loaded in {$here}, but package " . ExtensionVersion::PACKAGE
                . ' needs ' . ExtensionVersion::SUPPORTED, ExtensionVersion::mismatchMessage());
        }
        $build = '';
        if (class_exists('Seiger\sTask\Facades\sTask', false) && method_exists('Seiger\sTask\Facades\sTask', 'buildInfo')) {
            try {
                $info = \Seiger\sTask\Facades\sTask::buildInfo();
                $build = ', built ' . ($info['build_date'] ?? '?') . ' from ' . substr((string) ($info['git_commit'] ?? '?'), 0, 12);
            } catch (\Throwable) {
                $build = '';
            }
        }

        return Check::ok($name, "stask {$loaded} loaded in {$here}{$build}; package " . ExtensionVersion::PACKAGE
            . ' needs ' . ExtensionVersion::SUPPORTED);
    }

    private function webServer(): Check
    {
        $name = 'web server PHP';
        $storage = $this->host->storagePath();
        $report = null;
        $source = '';
        $asked = '';
        $url = $this->url ?? $this->host->probeUrl();
        if ($this->askWebServer && $url !== null && $url !== '') {
            // The module's address or the route's own: .../stask and .../stask/doctor both work.
            if (!str_ends_with(rtrim((string) parse_url($url, PHP_URL_PATH), '/'), '/doctor')) {
                $url = rtrim($url, '/') . '/doctor';
            }
            [$report, $asked] = $this->ask($url, $storage);
            $source = 'asked ' . $url;
        }
        if ($report === null) {
            $report = WebReport::read($storage);
            if ($report !== null) {
                $source = 'reported by the module ' . Time::ago((float) $report['time']);
            }
        }
        if ($report === null && !$this->host->hasWebModule()) {
            return Check::skip($name, 'not checked here (no module): the standalone server says at /stask/ whether its PHP loads the extension');
        }
        if ($report === null) {
            return Check::fail(
                $name,
                'the web server\'s PHP has not reported yet' . ($asked !== '' ? " ({$asked})" : ''),
                'open the sTask module in the manager once (it reports the PHP serving the site), '
                . 'or run stask:doctor --url=<the module\'s address, e.g. https://example.com/manager/stask>'
            );
        }
        $what = 'PHP ' . ($report['php'] ?? '?') . ' (' . ($report['sapi'] ?? '?') . ($report['host'] ?? '' ? ' on ' . $report['host'] : '') . ')';
        $version = $report['extension'] ?? null;
        $ini = ($report['ini'] ?? null) ?: 'its php.ini';
        $scan = ($report['scan_dir'] ?? null) ? ' or a stask.ini in ' . $report['scan_dir'] : '';
        if (!is_string($version) || $version === '') {
            return Check::fail(
                $name,
                "the web server's {$what} has not loaded stask ({$source})",
                "add \"extension=stask\" to {$ini}{$scan}, then restart the web server's PHP (e.g. systemctl reload php8.2-fpm)"
            );
        }
        if (!ExtensionVersion::satisfies($version, ExtensionVersion::SUPPORTED)) {
            return Check::fail(
                $name,
                "the web server's {$what} has stask {$version}, package " . ExtensionVersion::PACKAGE . ' needs '
                . ExtensionVersion::SUPPORTED . " ({$source})",
                'install stask ' . ExtensionVersion::SUPPORTED . " for the web server's PHP ({$ini}) and restart it"
            );
        }

        return Check::ok($name, "{$what} has stask {$version} ({$source})");
    }

    /** @return array{0:?array,1:string} the web server's report, or null and why not */
    private function ask(string $url, string $storage): array
    {
        $token = WebReport::issueProbeToken($storage);
        if ($token === null) {
            return [null, "cannot write a probe token to {$storage}"];
        }
        $full = $url . (str_contains($url, '?') ? '&' : '?') . 'probe=' . $token;
        $context = stream_context_create(['http' => [
            'method' => 'GET',
            'timeout' => 5,
            'ignore_errors' => true,
            // Evolution's manager answers 404 to a request without Accept-Language.
            'header' => "Accept: application/json\r\nAccept-Language: en\r\nUser-Agent: stask-doctor\r\n",
        ]]);
        $body = @file_get_contents($full, false, $context);
        if ($body === false) {
            $error = error_get_last()['message'] ?? 'no answer';

            return [null, 'no answer from ' . $url . ': ' . preg_replace('/^.*?: /', '', $error)];
        }
        $status = 0;
        foreach ($http_response_header ?? [] as $header) {
            if (preg_match('#^HTTP/\S+\s+(\d+)#', $header, $m)) {
                $status = (int) $m[1];
            }
        }
        $data = json_decode($body, true);
        if ($status !== 200 || !is_array($data) || !isset($data['php'], $data['sapi'])) {
            return [null, "{$url} answered HTTP {$status}" . (is_array($data) && isset($data['message']) ? ': ' . $data['message'] : '')];
        }

        return [$data, ''];
    }

    private function database(): Check
    {
        $name = 'database';
        $error = $this->host->configurationError();
        if ($error !== null) {
            return Check::fail($name, self::oneLine($error), $this->host->databaseFix());
        }
        try {
            $this->pdo = $this->host->pdo();
            $this->pdo->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
            $this->pdo->query('SELECT 1')->fetchColumn();
        } catch (\Throwable $e) {
            $this->pdo = null;

            return Check::fail($name, 'cannot reach ' . $this->host->describeDatabase() . ': ' . self::oneLine($e->getMessage()), $this->host->databaseFix());
        }

        return Check::ok($name, $this->host->describeDatabase() . ' is reachable');
    }

    private function tables(): Check
    {
        $name = 'tables';
        $prefix = $this->host->tablePrefix();
        if ($this->pdo === null) {
            return Check::skip($name, "not checked (no database); prefix '{$prefix}'");
        }
        $missing = [];
        $old = [];
        foreach (self::TABLES as $table => $column) {
            try {
                $this->pdo->query("SELECT {$column} FROM {$prefix}{$table} WHERE 1 = 0")->fetchAll();
            } catch (\Throwable) {
                try {
                    $this->pdo->query("SELECT 1 FROM {$prefix}{$table} WHERE 1 = 0")->fetchAll();
                    $old[] = $prefix . $table;
                } catch (\Throwable) {
                    $missing[] = $prefix . $table;
                }
            }
        }
        if ($missing !== [] || $old !== []) {
            $detail = ($missing !== [] ? 'missing ' . implode(', ', $missing) : '')
                . ($missing !== [] && $old !== [] ? '; ' : '')
                . ($old !== [] ? 'not converted from the sTask 2.x package yet: ' . implode(', ', $old) : '');

            return Check::fail($name, "{$detail} (prefix '{$prefix}')", 'run ' . $this->host->migrateCommand() . ' (it creates or converts the tables)');
        }
        $this->tablesOk = true;

        return Check::ok($name, 'migrated: ' . implode(', ', array_map(static fn ($t) => $prefix . $t, array_keys(self::TABLES))) . " (prefix '{$prefix}')");
    }

    private function storage(): Check
    {
        $name = 'storage';
        $dir = $this->host->storagePath();
        $user = function_exists('posix_geteuid') && function_exists('posix_getpwuid') ? ((posix_getpwuid(posix_geteuid()) ?: [])['name'] ?? (string) posix_geteuid()) : get_current_user();
        if (!is_dir($dir)) {
            return Check::fail($name, "{$dir} does not exist", "mkdir -p {$dir} && chown {$user} {$dir} (the web server's user needs it too)");
        }
        $probe = rtrim($dir, '/') . '/.doctor-' . bin2hex(random_bytes(4));
        if (@file_put_contents($probe, 'x') === false) {
            return Check::fail($name, "{$dir} is not writable by {$user}", "chown -R {$user} {$dir} (or chmod g+w it for a group the web server's user and the workers share)");
        }
        @unlink($probe);
        $free = @disk_free_space($dir);

        return Check::ok($name, "{$dir} is writable by {$user}" . ($free !== false ? ', ' . round($free / 1073741824, 1) . ' GB free' : ''));
    }

    private function workers(): Check
    {
        $name = 'workers';
        if ($this->pdo === null || !$this->tablesOk) {
            return Check::skip($name, 'not checked (needs the database and its tables)');
        }
        $newest = null;
        $from = '';
        foreach ($this->heartbeats() as $source) {
            try {
                $seen = $source->lastSeen($this->pdo, $this->host->tablePrefix());
            } catch (\Throwable) {
                $seen = null;
            }
            if ($seen !== null && ($newest === null || $seen > $newest)) {
                $newest = $seen;
                $from = $source->name();
            }
        }
        $how = $this->host->cronLine() !== null
            ? 'add the cron line "' . $this->host->cronLine() . '" (crontab -e as the web server\'s user) or run stask:work as a service (docs/production.md)'
            : 'run the worker from cron or as a service (docs/production.md)';
        if ($newest === null) {
            return Check::fail($name, 'no worker has run yet (no lease, no task started)', $how);
        }
        $age = microtime(true) - $newest;
        if ($age > $this->stale) {
            return Check::fail($name, 'the last worker ran ' . Time::ago($newest) . ' (' . Time::utc($newest) . ", {$from})", $how . '; check the worker\'s log if it is already there');
        }

        return Check::ok($name, 'a worker ran ' . Time::ago($newest) . " ({$from})");
    }

    private function schedule(): Check
    {
        $name = 'schedule';
        $registered = $this->host->scheduleRegistered();
        if ($registered === null) {
            return Check::skip($name, 'no scheduler here: run stask:work under systemd or supervisor (docs/production.md)');
        }
        if (!$registered) {
            return Check::fail($name, 'stask:worker is not in the schedule', 'register Seiger\sTask\sTaskServiceProvider with the application (Evolution: php artisan package:discover) and keep the extension loaded for the CLI');
        }

        return Check::ok($name, 'stask:worker runs every minute from the schedule' . ($this->host->cronLine() !== null ? '; cron needs: ' . $this->host->cronLine() : ''));
    }

    private function timezone(): Check
    {
        $name = 'timezone';
        $php = date_default_timezone_get();
        $ini = (string) ini_get('date.timezone');
        $app = $this->host->appTimezone();
        $detail = "PHP {$php}" . ($ini === '' ? ' (date.timezone not set: UTC)' : '') . ($app !== null ? ", application {$app}" : '');
        if ($app !== null && $app !== '' && !in_array($app, \DateTimeZone::listIdentifiers(\DateTimeZone::ALL_WITH_BC), true)) {
            return Check::fail($name, "{$detail}: '{$app}' is not a timezone", "set the application's timezone to a name like Europe/Kyiv or UTC");
        }
        // The engine writes UTC from each host's clock: hosts sharing a
        // database must agree on the time (leases, schedules).
        if ($this->pdo !== null) {
            $skew = $this->clockSkew();
            if ($skew !== null) {
                if (abs($skew) > 5) {
                    return Check::fail($name, $detail . sprintf('; this host\'s clock is %+.0f s off the database server\'s', $skew), 'synchronise the clocks (timedatectl set-ntp true, chrony); leases and schedules compare times written by every host');
                }
                $detail .= sprintf('; clock within %.0f s of the database server', abs($skew));
            }
        }

        return Check::ok($name, $detail);
    }

    /** This host's time minus the database server's, in seconds (null when it cannot tell). */
    private function clockSkew(): ?float
    {
        $sql = match ((string) $this->pdo->getAttribute(\PDO::ATTR_DRIVER_NAME)) {
            'mysql' => 'SELECT UNIX_TIMESTAMP(NOW(6))',
            'pgsql' => 'SELECT EXTRACT(EPOCH FROM clock_timestamp())',
            default => null,
        };
        if ($sql === null) {
            return null;
        }
        try {
            $before = microtime(true);
            $db = (float) $this->pdo->query($sql)->fetchColumn();
            $after = microtime(true);
        } catch (\Throwable) {
            return null;
        }

        return ($before + $after) / 2 - $db;
    }

    private function memoryLimit(): Check
    {
        $name = 'memory_limit';
        $value = (string) ini_get('memory_limit');
        $bytes = self::bytes($value);
        if ($bytes !== -1 && $bytes < self::MIN_MEMORY) {
            return Check::fail($name, "{$value} for the workers (this PHP CLI)", 'set memory_limit = 512M in ' . self::iniTarget() . ' (workers run large tasks in one process)');
        }

        return Check::ok($name, ($value === '-1' ? 'unlimited' : $value) . ' for the workers (this PHP CLI)');
    }

    private function maxExecutionTime(): Check
    {
        $name = 'max_execution_time';
        $value = (int) ini_get('max_execution_time');
        if ($value > 0 && $value < 600) {
            return Check::fail($name, "{$value} s for the workers (this PHP CLI): a worker runs for minutes", 'set max_execution_time = 0 in ' . self::iniTarget() . ' (the CLI default)');
        }

        return Check::ok($name, ($value === 0 ? 'unlimited' : $value . ' s') . ' for the workers (this PHP CLI)');
    }

    /** Where this PHP reads its settings, for the fixes. */
    private static function iniTarget(): string
    {
        $file = php_ini_loaded_file();
        $scan = PHP_CONFIG_FILE_SCAN_DIR;

        return ($file ? $file : 'the php.ini of ' . PHP_BINARY) . ($scan !== '' ? " (or a file in {$scan})" : '');
    }

    private static function bytes(string $value): int
    {
        $value = trim($value);
        if ($value === '' || $value === '-1') {
            return -1;
        }
        $number = (int) $value;

        return match (strtolower(substr($value, -1))) {
            'g' => $number * 1073741824,
            'm' => $number * 1048576,
            'k' => $number * 1024,
            default => $number,
        };
    }

    private static function oneLine(string $text): string
    {
        return trim(preg_replace('/\s+/', ' ', $text));
    }
}
