<?php

namespace Tests;

/**
 * php artisan stask:doctor: healthy (exit 0, every line ok) and broken four
 * ways (no extension, another extension version, database down, tables
 * missing), each with its message and fix; php/bin/stask-doctor without
 * Laravel.
 */
class DoctorTest extends HttpHarnessTestCase
{
    /** A worker ran (the maintenance lease), and the web server's PHP answers the probe. */
    private function healthySite(): string
    {
        $this->artisanOk(['stask:worker', '--once'], [], 30);
        $base = $this->serve([]);

        return $base . '/stask/doctor';
    }

    /** @return array{0:int,1:string} exit code and stdout+stderr */
    private function doctor(array $args = [], array $env = []): array
    {
        $process = $this->artisan(array_merge(['stask:doctor'], $args), $env, 60);

        return [$process->getExitCode(), $process->getOutput() . $process->getErrorOutput()];
    }

    private function line(string $output, string $check): string
    {
        foreach (explode("\n", $output) as $line) {
            if (preg_match('/^\[(?: ok |FAIL|skip)\] ' . preg_quote($check, '/') . ':/', $line)) {
                return $line;
            }
        }
        $this->fail("no line for '{$check}' in:\n{$output}");
    }

    public function testHealthySiteExitsZeroWithOneOkLinePerCheck(): void
    {
        $url = $this->healthySite();
        // The module's address; the doctor asks its /doctor route.
        [$code, $output] = $this->doctor(['--url=' . substr($url, 0, -strlen('/doctor'))]);
        $this->assertSame(0, $code, $output);
        foreach (['extension', 'web server PHP', 'database', 'tables', 'storage', 'workers', 'schedule', 'timezone', 'memory_limit', 'max_execution_time'] as $check) {
            $this->assertStringStartsWith('[ ok ] ' . $check . ':', $this->line($output, $check));
        }
        $this->assertStringContainsString('sTask is ready.', $output);
        $this->assertStringContainsString("(prefix '{$this->prefix}')", $this->line($output, 'tables'));
        $this->assertStringContainsString('has stask 0.1.0 (asked ' . $url . ')', $this->line($output, 'web server PHP'));
        $this->assertMatchesRegularExpression('/a worker ran \d+ s ago/', $this->line($output, 'workers'));

        // The web server's answer is kept: without asking, the module's last report counts.
        [$code, $output] = $this->doctor(['--no-web']);
        $this->assertSame(0, $code, $output);
        $this->assertStringContainsString('reported by the module', $this->line($output, 'web server PHP'));

        // The probe route answers only a manager, or the doctor's one-time token (once).
        $denied = $this->request('GET', $url, ['Accept' => 'application/json']);
        $this->assertSame(403, $denied['status'], $denied['body']);
        $this->assertStringNotContainsString('"php"', $denied['body']);
        $this->assertSame(403, $this->request('GET', $url . '?probe=' . str_repeat('0', 32), ['Accept' => 'application/json'])['status']);
    }

    public function testTheModuleShowsAndRecordsTheWebServersPhp(): void
    {
        $base = $this->serve([]);
        $this->assertSame(200, $this->request('GET', $base . '/harness/login?user=1&role=1')['status']);
        $page = $this->request('GET', $base . '/stask');
        $this->assertSame(200, $page['status'], $page['body']);
        $this->assertMatchesRegularExpression('#<p id="stask-web-php"[^>]* data-url="[^"]*/stask/doctor"#', $page['body']);
        $this->assertStringContainsString('stask-doctor.js', $page['body']);
        $script = $this->request('GET', $base . '/stask/assets/stask-doctor.js');
        $this->assertSame(200, $script['status']);

        // What the module's script asks, as the logged-in manager.
        $report = $this->request('GET', $base . '/stask/doctor', ['Accept' => 'application/json']);
        $this->assertSame(200, $report['status'], $report['body']);
        $data = $this->json($report);
        $this->assertSame(PHP_VERSION, $data['php']);
        $this->assertSame('cli-server', $data['sapi']);
        $this->assertSame('0.1.0', $data['extension']);
        $this->assertTrue($data['compatible']);

        [$code, $output] = $this->doctor(['--no-web']);
        $this->assertStringStartsWith('[ ok ] web server PHP: PHP ' . PHP_VERSION . ' (cli-server', $this->line($output, 'web server PHP'));
        $this->assertStringContainsString('reported by the module', $this->line($output, 'web server PHP'));
    }

    public function testAWebServerWithoutTheExtensionIsReportedByItsModulePage(): void
    {
        $empty = $this->dir . '/storage/no-ini';
        mkdir($empty);
        $base = $this->serve(['PHP_INI_SCAN_DIR' => ':' . $empty]);
        $this->assertSame(200, $this->request('GET', $base . '/harness/login?user=1&role=1')['status']);
        $page = $this->request('GET', $base . '/stask');
        $this->assertSame(503, $page['status'], $page['body']);

        [$code, $output] = $this->doctor(['--no-web']);
        $this->assertSame(1, $code, $output);
        $line = $this->line($output, 'web server PHP');
        $this->assertStringStartsWith("[FAIL] web server PHP: the web server's PHP " . PHP_VERSION . ' (cli-server', $line);
        $this->assertStringContainsString('has not loaded stask', $line);
        $this->assertStringContainsString('Fix: add "extension=stask" to', $line);
    }

    public function testWithoutTheExtensionItRunsAndSaysHowToLoadIt(): void
    {
        $empty = $this->dir . '/storage/no-ini';
        mkdir($empty);
        [$code, $output] = $this->doctor(['--no-web'], ['PHP_INI_SCAN_DIR' => ':' . $empty]);
        $this->assertSame(1, $code, $output);
        $line = $this->line($output, 'extension');
        $this->assertStringStartsWith('[FAIL] extension: stask is not loaded in this PHP (cli ', $line);
        $this->assertStringContainsString('Fix: install it', $line);
        $this->assertStringContainsString('"extension=stask"', $line);
        // The other checks still run without the extension.
        $this->assertStringStartsWith('[ ok ] database:', $this->line($output, 'database'));
        $this->assertStringStartsWith('[ ok ] tables:', $this->line($output, 'tables'));
    }

    public function testAnotherExtensionVersionCountsAsMissingAndBothVersionsAreNamed(): void
    {
        // A copy of the package that needs stask ~9.0.0 (the loaded one is 0.1.0).
        $package = $this->dir . '/package';
        (new \Symfony\Component\Process\Process(['cp', '-R', realpath(self::APP . '/../../php'), $package]))->mustRun();
        $file = $package . '/src/Support/ExtensionVersion.php';
        file_put_contents($file, str_replace("SUPPORTED = '~0.1.0'", "SUPPORTED = '~9.0.0'", file_get_contents($file)));
        $env = ['STASK_PHP_DIR' => $package];

        [$code, $output] = $this->doctor(['--no-web'], $env);
        $this->assertSame(1, $code, $output);
        $line = $this->line($output, 'extension');
        $this->assertStringContainsString('[FAIL] extension: stask 0.1.0 is loaded in this PHP', $line);
        $this->assertStringContainsString('package 0.1.0 needs ~9.0.0', $line);
        $this->assertStringContainsString('Fix: sTask 0.1.0 needs the stask extension ~9.0.0', $line);

        // The host treats it as missing: its commands still run, sTask's say why, the log names both versions.
        $this->assertSame(0, $this->artisan(['host:ping'], $env)->getExitCode());
        $worker = $this->artisan(['stask:worker', '--once'], $env);
        $this->assertSame(1, $worker->getExitCode());
        $this->assertStringContainsString('has stask 0.1.0 loaded', $worker->getOutput() . $worker->getErrorOutput());
        $log = (string) file_get_contents($this->dir . '/storage/logs/laravel.log');
        $this->assertStringContainsString('needs the stask extension ~9.0.0 but this PHP (cli', $log);

        // The module tab of that web server says the same, and the probe records it for the doctor.
        $base = $this->serve($env);
        $this->assertSame(200, $this->request('GET', $base . '/harness/login?user=1&role=1')['status']);
        $page = $this->request('GET', $base . '/stask');
        $this->assertSame(503, $page['status'], $page['body']);
        $this->assertStringContainsString('the stask extension is another version', $page['body']);
        $this->assertStringContainsString('needs the stask extension ~9.0.0 but this PHP (cli-server', $page['body']);
        $this->assertStringContainsString('has stask 0.1.0 loaded', $page['body']);
        $this->assertSame(200, $this->request('GET', $base . '/stask/doctor', ['Accept' => 'application/json'])['status']);
        [, $output] = $this->doctor(['--no-web'], $env);
        $line = $this->line($output, 'web server PHP');
        $this->assertStringContainsString('has stask 0.1.0, package 0.1.0 needs ~9.0.0', $line);
    }

    public function testDatabaseDown(): void
    {
        $env = $this->connection === 'sqlite'
            ? ['DB_DATABASE' => $this->dir . '/no-such-folder/database.sqlite']
            : ['DB_PORT' => '1'];
        [$code, $output] = $this->doctor(['--no-web'], $env);
        $this->assertSame(1, $code, $output);
        $line = $this->line($output, 'database');
        $this->assertStringStartsWith('[FAIL] database: cannot reach ' . ($this->connection === 'sqlite' ? 'sqlite' : $this->connection), $line);
        $this->assertStringContainsString("Fix: check the connection '{$this->connection}'", $line);
        $this->assertStringContainsString('DB_HOST', $line);
        $this->assertStringStartsWith('[skip] tables:', $this->line($output, 'tables'));
        $this->assertStringStartsWith('[skip] workers:', $this->line($output, 'workers'));
    }

    public function testAConnectionThatIsNotDefinedIsReportedNotThrown(): void
    {
        [$code, $output] = $this->doctor(['--no-web'], ['DB_CONNECTION' => 'oracle']);
        $this->assertSame(1, $code, $output);
        $line = $this->line($output, 'database');
        $this->assertStringContainsString("[FAIL] database: sTask: the default database connection 'oracle' is not defined", $line);
        $this->assertStringContainsString("Fix: check the connection 'oracle'", $line);
    }

    public function testTablesMissing(): void
    {
        // Another prefix: the same database without sTask's tables.
        $other = 'doc' . substr(bin2hex(random_bytes(3)), 0, 4) . '_';
        [$code, $output] = $this->doctor(['--no-web'], ['DB_PREFIX' => $other]);
        $this->assertSame(1, $code, $output);
        $line = $this->line($output, 'tables');
        $this->assertStringContainsString("[FAIL] tables: missing {$other}s_tasks, {$other}s_workers, {$other}s_task_leaders, {$other}s_task_schedules, {$other}s_task_processes, {$other}s_task_attempts (prefix '{$other}')", $line);
        $this->assertStringContainsString('Fix: run php artisan migrate', $line);
    }

    public function testStandaloneDoctorWithoutLaravel(): void
    {
        $dsn = [
            'sqlite' => 'sqlite://' . $this->dir . '/database/database.sqlite',
            'pgsql' => 'postgres://postgres:' . rawurlencode((string) getenv('DB_PASSWORD')) . '@127.0.0.1:5432/test',
            'mysql' => 'mysql://root:' . rawurlencode((string) getenv('DB_PASSWORD')) . '@127.0.0.1:3306/test',
        ][$this->connection];
        $this->artisanOk(['stask:worker', '--once'], [], 30);
        $bin = realpath(self::APP . '/../../php/bin/stask-doctor');
        $process = new \Symfony\Component\Process\Process(
            [PHP_BINARY, $bin, '--dsn=' . $dsn, '--prefix=' . $this->prefix, '--storage=' . $this->dir . '/storage/stask'],
            $this->dir,
            $this->env()
        );
        $process->run();
        $output = $process->getOutput();
        $this->assertSame(0, $process->getExitCode(), $this->describe($process));
        $this->assertStringStartsWith('[ ok ] workers:', $this->line($output, 'workers'));
        $this->assertStringStartsWith('[skip] schedule:', $this->line($output, 'schedule'));

        $process = new \Symfony\Component\Process\Process([PHP_BINARY, $bin, '--dsn=mysql://nobody@127.0.0.1:1/none'], $this->dir, $this->env());
        $process->run();
        $this->assertSame(1, $process->getExitCode(), $this->describe($process));
        $this->assertStringContainsString('[FAIL] database: cannot reach mysql nobody@127.0.0.1:1/none', $process->getOutput());
    }

    public function testOnTheEvolutionCore(): void
    {
        // The Evolution 3.1-like core: no Foundation, schedule:run brought by the package.
        $this->coreOk(['migrate', '--force']);
        $this->coreOk(['stask:worker', '--once'], [], 30);
        $process = $this->core(['stask:doctor', '--no-web']);
        $output = $process->getOutput() . $process->getErrorOutput();
        // The module has not reported the web server's PHP yet: that line alone fails, with its fix.
        $this->assertSame(1, $process->getExitCode(), $output);
        $this->assertStringStartsWith('[FAIL] web server PHP: the web server\'s PHP has not reported yet', $this->line($output, 'web server PHP'));
        $this->assertStringContainsString('Fix: open the sTask module in the manager once', $this->line($output, 'web server PHP'));
        foreach (['extension', 'database', 'tables', 'storage', 'workers', 'schedule', 'memory_limit', 'max_execution_time'] as $check) {
            $this->assertStringStartsWith('[ ok ] ' . $check . ':', $this->line($output, $check), $output);
        }
        $this->assertStringContainsString('1 of 10 checks failed.', $output);
    }
}
