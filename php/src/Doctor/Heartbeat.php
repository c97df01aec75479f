<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

/**
 * A sign that a worker process is alive: when one last did something the
 * database shows. stask:doctor takes the newest of its sources; a registry
 * of worker processes with their own heartbeats can be added as another
 * source (put first in Doctor::heartbeats()) without touching the checks.
 */
interface Heartbeat
{
    /** What this source is, for the doctor's line (e.g. "maintenance lease"). */
    public function name(): string;

    /** Unix time of the last sign of life, or null when this source has none. */
    public function lastSeen(\PDO $pdo, string $prefix): ?float;
}
