<?php

namespace Tests;

use Symfony\Component\Process\Process;

/**
 * The package in an Evolution CMS 3.1-like core (evo/: no Illuminate\Foundation,
 * its exception handler only under the service name `ExceptionHandler`, no
 * app.timezone, Laravel 8.46's route-group prefix merge, the manager under
 * /manager/ with requests from createFromGlobals() and permissions cached in
 * the session at login, every PHP error logged to
 * evo/core/storage/logs/php-errors.log). Each test is one thing a real 3.1.6
 * core did wrong with an earlier version of the package.
 */
final class EvolutionCoreTest extends HttpHarnessTestCase
{
    protected function migrate(): void
    {
        $this->coreOk(['migrate', '--force']);
    }

    protected function registerHarnessWorkers(): void
    {
        $this->inCore(<<<'PHP'
            \Seiger\sTask\Facades\sTask::registerWorker(\App\Workers\ExportWorker::class);
            \Seiger\sTask\Facades\sTask::activateWorker('report');
            \Seiger\sTask\Facades\sTask::registerWorker(\App\Workers\DemoWorker::class);
            PHP);
    }

    /** Runs PHP code inside the booted core (as artisan boots it). */
    private function inCore(string $code, array $env = []): string
    {
        $script = 'define("IN_MANAGER_MODE", true); require "bootstrap.php"; $evo = new EvolutionCMS\Core(); ' . $code;
        $process = new Process([PHP_BINARY, '-r', $script], $this->dir . '/evo/core', $this->env($env), null, 60);
        $process->run();
        $this->assertSame(0, $process->getExitCode(), $this->describe($process));

        return $process->getOutput();
    }

    /** The site (index.php) and the manager (manager/index.php) under php -S, as a web server routes them. */
    private function serveSite(array $env = []): string
    {
        return $this->serve($env, 'evo', '.', 'router.php');
    }

    /** A manager login of the core (the role's permissions are cached in the session now). */
    private function login(string $base, int $role = 1): void
    {
        $response = $this->request('POST', $base . '/manager/harness-login', ['Content-Type' => 'application/x-www-form-urlencoded'], "user_id=5&role_id={$role}");
        $this->assertSame(200, $response['status'], $response['body']);
    }

    /** The module page's CSRF token; the page must be there. */
    private function moduleToken(string $base): string
    {
        $page = $this->request('GET', $base . '/manager/stask');
        $this->assertSame(200, $page['status'], $page['body']);

        return $this->csrfToken($page['body']);
    }

    /**
     * What the core logged: PHP errors (deprecations included) and uncaught
     * exceptions. Debian's cron-expression 3.3 uses "${var}" strings, which
     * PHP 8.2 reports as deprecated in its own files: that is the host's
     * library, not the package, so only those lines are left out.
     */
    private function coreErrors(): array
    {
        $lines = [];
        foreach (['php-errors.log', 'exceptions.log'] as $log) {
            $file = $this->dir . '/evo/core/storage/logs/' . $log;
            foreach (is_file($file) ? file($file, FILE_IGNORE_NEW_LINES) : [] as $line) {
                if ($line !== '' && $line[0] !== '#' && !str_contains($line, '/usr/share/php/Cron/')) {
                    $lines[] = $line;
                }
            }
        }

        return $lines;
    }

    public function testScheduleRunAndListWorkOnTheCore(): void
    {
        $list = $this->core(['schedule:list']);
        $this->assertSame(0, $list->getExitCode(), $this->describe($list));
        $this->assertMatchesRegularExpression('/stask:worker\s*\|\s*\* \* \* \* \*/', $list->getOutput());

        $output = $this->artisanOk(['demo:enqueue', '2']);
        preg_match('/queued ([\d,]+)/', $output, $m);
        $ids = array_map('intval', explode(',', $m[1]));

        // The seed's cron line: cd core && php artisan schedule:run
        $run = $this->core(['schedule:run'], [], 30);
        $this->assertSame(0, $run->getExitCode(), $this->describe($run));
        $this->assertStringContainsString("'artisan' stask:worker", $run->getOutput());
        $done = $this->waitFor(function () {
            return array_map('intval', array_column($this->rows('s_tasks'), 'status')) === [30, 30];
        }, 20);
        $this->assertTrue((bool) $done, 'completed by the worker schedule:run started: ' . json_encode($this->rows('s_tasks')));
        $this->assertSame($ids, array_map(static fn ($line) => (int) $line[0], $this->ledger('evo/core/storage')));
        $this->assertSame([], $this->coreErrors());
    }

    public function testTheHostsOwnHandlerStaysAndTheContractReportsToItsLog(): void
    {
        $out = $this->inCore(<<<'PHP'
            $artisan = new EvolutionCMS\Console($evo, $evo['events'], $evo->version());
            $handler = $evo->make(Illuminate\Contracts\Debug\ExceptionHandler::class);
            $handler->report(new RuntimeException('scheduled boom'));
            echo get_class($evo->make('ExceptionHandler')), ' ', get_class($handler);
            PHP);
        $this->assertSame('EvolutionCMS\ExceptionHandler Seiger\sTask\Support\HostExceptionHandler', $out);
        $this->assertStringContainsString('scheduled boom', (string) @file_get_contents($this->dir . '/evo/core/storage/logs/core.log'));
    }

    public function testRoutesBelongToTheManagerNotToTheSite(): void
    {
        $base = $this->serveSite();
        $site = $this->request('GET', $base . '/stask');
        $this->assertSame(200, $site['status']);
        $this->assertStringContainsString('The site page with the alias stask', $site['body']);
        $this->assertSame(404, $this->request('GET', $base . '/stask/health')['status']);
        $this->assertStringContainsString('Document not found', $this->request('GET', $base . '/stask/tasks')['body']);

        // The manager: its login page first, the module after a login.
        $this->assertStringContainsString('Manager login', $this->request('GET', $base . '/manager/stask')['body']);
        $this->login($base);
        $page = $this->request('GET', $base . '/manager/stask');
        $this->assertSame(200, $page['status']);
        $this->assertSame('/manager/stask', $this->pageConfig($page['body'])['api']);
        $this->assertSame(200, $this->request('GET', $base . '/manager/stask/stats', ['Accept' => 'application/json'])['status']);
        $this->assertSame([], $this->coreErrors(), 'no deprecation (8.46 route group prefix) and no exception');
    }

    public function testTheCsrfTokenIsTakenWhereverTheManagerTakesIt(): void
    {
        $base = $this->serveSite();
        $this->login($base);
        $token = $this->moduleToken($base);
        $url = $base . '/manager/stask/workers/discover';
        $json = ['Content-Type' => 'application/json', 'Accept' => 'application/json'];

        $this->assertSame(419, $this->request('POST', $url, $json, '{}')['status']);
        $this->assertSame(419, $this->request('POST', $url . '?_token=' . urlencode($token), $json, '{}')['status'], 'never from the query string');
        $this->assertSame(419, $this->request('POST', $url, $json, json_encode(['_token' => 'x' . $token]))['status']);
        $this->assertSame(200, $this->request('POST', $url, $json, json_encode(['_token' => $token]))['status'], 'JSON body');
        $this->assertSame(200, $this->request('POST', $url, ['Content-Type' => 'application/x-www-form-urlencoded'], '_token=' . urlencode($token))['status'], 'form field');
        $this->assertSame(200, $this->request('POST', $url, $json + ['X-CSRF-TOKEN' => $token], '{}')['status'], 'X-CSRF-TOKEN');
        $this->assertSame(200, $this->request('POST', $url, $json + ['X-XSRF-TOKEN' => $token], '{}')['status'], 'X-XSRF-TOKEN');
    }

    public function testPermissionsAreReadAtLoginAndTheTabExplainsARefusal(): void
    {
        $migrate = $this->core(['migrate:status']);
        $this->assertSame(0, $migrate->getExitCode(), $this->describe($migrate));
        $base = $this->serveSite();
        $this->login($base, 2);

        $page = $this->request('GET', $base . '/manager/stask');
        $this->assertSame(403, $page['status']);
        $this->assertStringContainsString('text/html', $page['headers']['content-type'] ?? '');
        $this->assertStringContainsString('id="stask-access-denied"', $page['body']);
        $this->assertStringContainsString('log in again', $page['body']);
        $api = $this->request('GET', $base . '/manager/stask/stats', ['Accept' => 'application/json']);
        $this->assertSame(403, $api['status']);
        $this->assertSame(403, $this->json($api)['code']);

        // Granted now: still refused until the manager logs in again.
        $this->pdo()->prepare("INSERT INTO {$this->prefix}role_permissions (permission, role_id) VALUES ('stask', 2)")->execute();
        $this->assertSame(403, $this->request('GET', $base . '/manager/stask')['status']);
        $this->login($base, 2);
        $this->assertSame(200, $this->request('GET', $base . '/manager/stask')['status']);
    }

    public function testMigrateTellsManagersToLogInAgain(): void
    {
        $this->coreOk(['migrate:rollback', '--force']);
        $output = $this->coreOk(['migrate', '--force']);
        $this->assertStringContainsString('must log out and log in again', $output);
    }

    public function testAWebServerWithoutTheExtensionKeepsTheSiteAndTheManager(): void
    {
        $empty = $this->dir . '/evo/core/storage/no-ini';
        mkdir($empty);
        // PHP_INI_SCAN_DIR without the folder that loads the extension: the
        // CLI (these artisan processes) has it, the web server does not.
        $base = $this->serveSite(['PHP_INI_SCAN_DIR' => ':' . $empty]);
        $home = $this->request('GET', $base . '/');
        $this->assertSame(200, $home['status'], $home['body']);
        $this->assertStringContainsString('Home page of the site', $home['body']);
        $this->assertStringContainsString('The site page with the alias stask', $this->request('GET', $base . '/stask')['body']);
        $this->assertStringContainsString('Manager login', $this->request('GET', $base . '/manager/')['body']);
        $this->login($base);
        $this->assertStringContainsString('Manager dashboard', $this->request('GET', $base . '/manager/')['body']);

        $tab = $this->request('GET', $base . '/manager/stask');
        $this->assertSame(503, $tab['status']);
        $this->assertStringContainsString('id="stask-missing-extension"', $tab['body']);
        $this->assertStringContainsString('extension=stask', $tab['body']);
        $api = $this->request('GET', $base . '/manager/stask/stats', ['Accept' => 'application/json']);
        $this->assertSame(503, $api['status']);
        $this->assertStringContainsString('extension=stask', $this->json($api)['message']);

        $this->assertSame([], $this->coreErrors());
        $log = (string) @file_get_contents($this->dir . '/evo/core/storage/logs/core.log');
        $this->assertStringContainsString('sTask needs the stask PHP extension', $log);
        $this->assertStringContainsString('the web server', $log);
    }

    public function testTheCommandsWithoutTheExtensionSayHowToLoadIt(): void
    {
        $empty = $this->dir . '/evo/core/storage/no-ini';
        mkdir($empty);
        $env = ['PHP_INI_SCAN_DIR' => ':' . $empty];

        $list = $this->core(['list'], $env);
        $this->assertSame(0, $list->getExitCode(), $this->describe($list));
        $this->assertStringContainsString('stask:worker', $list->getOutput());
        $this->assertSame(0, $this->core(['migrate:status'], $env)->getExitCode(), 'the host\'s own commands work');

        $worker = $this->core(['stask:worker'], $env);
        $this->assertSame(1, $worker->getExitCode(), $this->describe($worker));
        $this->assertStringContainsString('extension=stask', $worker->getOutput() . $worker->getErrorOutput());
        $this->assertStringContainsString('the command line', $worker->getOutput() . $worker->getErrorOutput());

        // The package's plain autoloader, without Composer: no exception, a line in PHP's log.
        $autoload = realpath(self::APP . '/../../php/autoload.php');
        $plain = new Process([PHP_BINARY, '-r', 'require ' . var_export($autoload, true) . '; echo "page goes on";'], $this->dir, $env);
        $plain->run();
        $this->assertSame(0, $plain->getExitCode(), $this->describe($plain));
        $this->assertSame('page goes on', $plain->getOutput());
        $this->assertStringContainsString('stask PHP extension', $plain->getErrorOutput());
    }

    public function testTheModuleLoadsThePublishedAssetsWhileTheyAreCurrent(): void
    {
        $output = $this->coreOk(['vendor:publish', '--tag=stask']);
        $published = $this->dir . '/evo/assets/site';
        $this->assertFileExists($published . '/stask-admin.js', $output);

        $base = $this->serveSite();
        $this->login($base);
        $page = $this->request('GET', $base . '/manager/stask');
        $this->assertMatchesRegularExpression('#<script src="/assets/site/stask-admin\.js\?v=#', $page['body']);
        $script = $this->request('GET', $base . '/assets/site/stask-admin.js');
        $this->assertSame(200, $script['status']);
        $this->assertSame(file_get_contents($published . '/stask-admin.js'), $script['body']);

        // A copy left by another version is not used: the package serves its own.
        file_put_contents($published . '/stask-admin.js', "// old\n", FILE_APPEND);
        $page = $this->request('GET', $base . '/manager/stask');
        $this->assertMatchesRegularExpression('#<script src="/manager/stask/assets/stask-admin\.js\?v=#', $page['body']);
        $this->assertSame(200, $this->request('GET', $base . '/manager/stask/assets/stask-admin.js')['status']);
    }
}
