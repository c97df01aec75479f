<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

/** The engine's timestamps: UTC text `Y-m-d H:i:s[.u]` on every backend. */
final class Time
{
    public static function parse(mixed $value): ?float
    {
        if (!is_string($value) || trim($value) === '') {
            return null;
        }
        try {
            $time = new \DateTimeImmutable(trim($value), new \DateTimeZone('UTC'));
        } catch (\Exception) {
            return null;
        }

        return (float) $time->format('U.u');
    }

    /** "12 s ago", "5 min ago", "3 h ago", "2 days ago" (or "in 4 s" for a time ahead). */
    public static function ago(float $time, ?float $now = null): string
    {
        $delta = ($now ?? microtime(true)) - $time;
        $ahead = $delta < 0;
        $s = abs($delta);
        $text = $s < 90 ? round($s) . ' s' : ($s < 5400 ? round($s / 60) . ' min' : ($s < 172800 ? round($s / 3600) . ' h' : round($s / 86400) . ' days'));

        return $ahead ? 'in ' . $text : $text . ' ago';
    }

    public static function utc(float $time): string
    {
        return gmdate('Y-m-d H:i:s', (int) $time) . ' UTC';
    }
}
