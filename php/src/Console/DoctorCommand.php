<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Illuminate\Console\Command;
use Seiger\sTask\Doctor\Doctor;
use Seiger\sTask\Doctor\LaravelHost;

/**
 * php artisan stask:doctor: is this site ready to run sTask? One line per
 * check, a fix for each failure, exit code 0 only when every check
 * passes. Needs neither the extension nor a working database to run.
 */
class DoctorCommand extends Command
{
    protected $signature = 'stask:doctor
        {--url= : The module\'s address (e.g. https://example.com/manager/stask) to ask the web server\'s PHP (default: built from app.url)}
        {--no-web : Do not ask the web server; use what the module last reported}
        {--stale=300 : Seconds after which the newest worker heartbeat counts as dead}
        {--json : Print the checks as JSON}';

    protected $description = 'Check that the extension, the web server, the database, storage, cron and PHP settings are ready for sTask';

    public function handle(): int
    {
        $stale = (string) $this->option('stale');
        if (!ctype_digit($stale) || (int) $stale < 1) {
            $this->error("--stale must be a positive number of seconds, got '{$stale}'.");

            return 2;
        }
        $url = $this->option('url');
        $doctor = new Doctor(new LaravelHost($this->laravel), (int) $stale, !$this->option('no-web'), is_string($url) && $url !== '' ? $url : null);
        $checks = $doctor->run();
        $failed = array_filter($checks, static fn ($c) => $c->failed());
        if ($this->option('json')) {
            $this->line(json_encode(['ok' => $failed === [], 'checks' => array_map(static fn ($c) => $c->toArray(), $checks)], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
        } else {
            foreach ($checks as $check) {
                $check->failed() ? $this->error($check->line()) : $this->line($check->line());
            }
            $this->line($failed === [] ? 'sTask is ready.' : count($failed) . ' of ' . count($checks) . ' checks failed.');
        }

        return $failed === [] ? 0 : 1;
    }
}
