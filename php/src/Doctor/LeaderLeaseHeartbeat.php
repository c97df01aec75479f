<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

/**
 * The maintenance lease (s_task_leaders, name `maintenance`): every running
 * worker loop (stask:worker from cron, stask:work as a daemon) renews it at
 * start and every half lease, so its expiry minus the lease is when a worker
 * last ran. The lease length is stask.lease_seconds / STASK_LEASE_SECONDS
 * (default 60 s).
 */
final class LeaderLeaseHeartbeat implements Heartbeat
{
    public function name(): string
    {
        return 'worker lease';
    }

    public function lastSeen(\PDO $pdo, string $prefix): ?float
    {
        $statement = $pdo->prepare("SELECT expires_at FROM {$prefix}s_task_leaders WHERE name = ?");
        $statement->execute(['maintenance']);
        $value = $statement->fetchColumn();
        $expires = Time::parse($value);

        return $expires === null ? null : $expires - self::leaseSeconds();
    }

    private static function leaseSeconds(): float
    {
        foreach ([getenv('STASK_LEASE_SECONDS'), ini_get('stask.lease_seconds')] as $value) {
            if (is_string($value) && is_numeric($value) && (float) $value >= 1) {
                return (float) $value;
            }
        }

        return 60.0;
    }
}
