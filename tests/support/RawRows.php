<?php

declare(strict_types=1);

namespace Stask\Tests\Support;

use PDO;

/**
 * Writes rows behind the engine's back, the way a host's own code, an older
 * package or a removed Composer package leaves them. The engine refuses to
 * store such values itself (a worker class that does not load), so tests of
 * what it does with them must write them here.
 */
final class RawRows
{
    /** A PDO handle on the backend the tests run against. */
    public static function pdo(string $backend, string $sqliteFile): PDO
    {
        $pdo = match ($backend) {
            'pgsql' => new PDO('pgsql:host=127.0.0.1;port=5432;dbname=test', 'postgres', ''),
            'mariadb' => new PDO('mysql:host=127.0.0.1;port=3306;dbname=test', 'root', ''),
            default => new PDO('sqlite:' . $sqliteFile),
        };
        $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
        if ($backend === 'sqlite') {
            $pdo->exec('PRAGMA busy_timeout = 5000');
        }

        return $pdo;
    }

    /** Points a worker row at a class that no longer exists (an orphan). */
    public static function orphanWorker(PDO $pdo, string $prefix, string $identifier, string $class): void
    {
        $update = $pdo->prepare("UPDATE {$prefix}s_workers SET class = ? WHERE identifier = ?");
        $update->execute([$class, $identifier]);
        if ($update->rowCount() !== 1) {
            throw new \RuntimeException("no worker row '{$identifier}' to orphan");
        }
    }
}
