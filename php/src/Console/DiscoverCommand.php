<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;

/** Finds worker classes, refreshes registered ones and drops orphans. */
class DiscoverCommand extends StaskCommand
{
    protected $signature = 'stask:discover';

    protected $description = 'Discover sTask workers, rescan registered ones and remove orphans.';

    public function handle(): int
    {
        try {
            $discovered = sTask::discoverWorkers();
            $rescanned = sTask::rescanWorkers();
            $orphans = sTask::cleanOrphanedWorkers();
        } catch (sTaskException $e) {
            return $this->failWith('stask:discover: ' . $e->getMessage());
        }

        $this->report('Discovered', $discovered);
        $this->report('Rescanned', $rescanned);
        $this->line("Removed {$orphans} orphaned worker(s).");

        return 0;
    }

    private function report(string $label, mixed $items): void
    {
        $names = [];
        foreach ((array) $items as $key => $item) {
            $names[] = self::describe($key, $item);
        }
        $this->line(sprintf('%s %d worker(s)%s', $label, count($names), $names === [] ? '.' : ': ' . implode(', ', $names)));
    }

    private static function describe(int|string $key, mixed $item): string
    {
        if (is_string($item) || is_int($item)) {
            return (string) $item;
        }
        if (is_object($item) && isset($item->identifier)) {
            return (string) $item->identifier;
        }
        if (is_array($item)) {
            foreach (['identifier', 'class', 'name'] as $field) {
                if (isset($item[$field]) && is_scalar($item[$field])) {
                    return (string) $item[$field];
                }
            }
        }

        return (string) $key;
    }
}
