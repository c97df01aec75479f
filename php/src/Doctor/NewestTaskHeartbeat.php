<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

/** The newest task a worker started or finished (s_tasks.started_at / finished_at). */
final class NewestTaskHeartbeat implements Heartbeat
{
    public function name(): string
    {
        return 'newest task';
    }

    public function lastSeen(\PDO $pdo, string $prefix): ?float
    {
        $row = $pdo->query("SELECT MAX(started_at) AS s, MAX(finished_at) AS f FROM {$prefix}s_tasks")->fetch(\PDO::FETCH_ASSOC);
        $times = array_filter([Time::parse($row['s'] ?? null), Time::parse($row['f'] ?? null)], static fn ($t) => $t !== null);

        return $times === [] ? null : max($times);
    }
}
