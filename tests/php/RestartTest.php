<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

require_once __DIR__ . '/fixtures/LedgerWorker.php';

/**
 * The database goes away while workers run: they reconnect (or wait), and
 * no task is lost. On a server backend the server restarts; the embedded
 * SQLite has no server, so there another process (a backup, a long admin
 * write) holds the file's exclusive lock for seconds instead.
 */
final class RestartTest extends TestCase
{
    public function testWorkersReconnectAfterADatabaseRestartAndNothingIsLost(): void
    {
        $this->activeWorker(\Stask\Tests\Fixtures\LedgerWorker::class);
        $ledger = $this->root . '/ledger.txt';
        touch($ledger);
        $ids = [];
        for ($i = 0; $i < 150; $i++) {
            $ids[] = sTask::create('ledger', 'record', ['sleep_ms' => 20])->id;
        }

        $pids = [];
        foreach ([1, 2] as $_) {
            $pid = pcntl_fork();
            if ($pid === 0) {
                pcntl_exec(PHP_BINARY, ['-d', 'display_errors=0', '-d', 'extension=' . (getenv('STASK_LIB') ?: dirname(__DIR__, 2) . '/target/debug/libstask.so'), __DIR__ . '/fixtures/worker.php'], [
                    'STASK_TEST_LEDGER' => $ledger,
                    'STASK_TEST_CONNECTION' => json_encode($this->connection(['lease_seconds' => 5, 'retry_base_delay' => 0])),
                    'STASK_TEST_WORK' => json_encode(['stop_when_empty' => true, 'max_seconds' => 150]),
                ] + getenv());
                exit(127);
            }
            $pids[] = $pid;
        }
        usleep(800_000);
        $this->restartServer();
        foreach ($pids as $pid) {
            pcntl_waitpid($pid, $status);
            $this->assertSame(0, pcntl_wexitstatus($status), 'a worker gave up');
        }
        $this->configure();

        $ran = array_count_values(array_map(static fn ($l) => (int) $l, file($ledger, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES)));
        foreach ($ids as $id) {
            $this->assertSame('completed', sTaskModel::find($id)->status_text, "task #$id");
            $this->assertArrayHasKey($id, $ran, "task #$id ran");
        }
        $this->assertSame(0, sTaskModel::incomplete()->count());
    }

    private function restartServer(): void
    {
        if (self::backend() === 'sqlite') {
            $pdo = new \PDO('sqlite:' . $this->database);
            $pdo->exec('BEGIN EXCLUSIVE');
            $before = (int) $pdo->query('SELECT COUNT(*) FROM s_tasks WHERE status = 30')->fetchColumn();
            sleep(3);
            $after = (int) $pdo->query('SELECT COUNT(*) FROM s_tasks WHERE status = 30')->fetchColumn();
            $pdo->exec('COMMIT');
            $this->assertSame($before, $after, 'nobody wrote while the lock was held');
            $this->assertLessThan(150, $after, 'the lock was taken while tasks were still running');
            return;
        }
        if (self::backend() === 'pgsql') {
            $version = trim((string) shell_exec('ls /etc/postgresql | head -n1'));
            exec("pg_ctlcluster --skip-systemctl-redirect $version main restart 2>&1", $out, $rc);
            $this->assertSame(0, $rc, 'PostgreSQL restarted: ' . implode("\n", $out));
            return;
        }
        exec('mariadb-admin -h 127.0.0.1 -u root shutdown 2>&1', $out, $rc);
        $this->assertSame(0, $rc, 'MariaDB stopped: ' . implode("\n", $out));
        sleep(1);
        exec('start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd 2>&1', $out, $rc);
        $this->assertSame(0, $rc, 'MariaDB started');
        $until = microtime(true) + 30;
        while (@fsockopen('127.0.0.1', 3306) === false) {
            $this->assertLessThan($until, microtime(true), 'MariaDB came back');
            usleep(100_000);
        }
    }
}
