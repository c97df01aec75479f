<?php

declare(strict_types=1);

namespace Seiger\sTask\Console;

use Illuminate\Console\Command;
use Seiger\sTask\sTaskServiceProvider;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

/** Helpers shared by the stask:* commands: input checks and one-line errors. */
abstract class StaskCommand extends Command
{
    /** Without the extension every stask:* command says how to load it and exits 1. */
    protected function execute(InputInterface $input, OutputInterface $output)
    {
        if (!sTaskServiceProvider::extensionLoaded()) {
            $this->error(sTaskServiceProvider::missingExtensionMessage());

            return 1;
        }

        return parent::execute($input, $output);
    }

    /** Prints one error line and returns the exit code 1. */
    protected function failWith(string $message): int
    {
        $this->error($message);

        return 1;
    }

    /**
     * A positive whole number from an option or argument, or null when the
     * value is absent. Throws \InvalidArgumentException with $name on bad input.
     */
    protected function positiveInt(mixed $value, string $name, bool $allowZero = false): ?int
    {
        if ($value === null || $value === '') {
            return null;
        }
        $text = trim((string) $value);
        if (!preg_match('/^\d+$/', $text) || strlen($text) > 12 || ((int) $text === 0 && !$allowZero)) {
            throw new \InvalidArgumentException(
                "{$name} must be a " . ($allowZero ? 'non-negative' : 'positive') . " whole number, got '{$text}'."
            );
        }

        return (int) $text;
    }

    /** A positive number of seconds (fractions allowed), or null when absent. */
    protected function positiveSeconds(mixed $value, string $name): ?float
    {
        if ($value === null || $value === '') {
            return null;
        }
        $text = trim((string) $value);
        if (!is_numeric($text) || (float) $text <= 0 || !is_finite((float) $text)) {
            throw new \InvalidArgumentException("{$name} must be a positive number of seconds, got '{$text}'.");
        }

        return (float) $text;
    }

    /** Task ids from the `id` argument; all checked before any is used. */
    protected function taskIds(): array
    {
        $ids = [];
        foreach ((array) $this->argument('id') as $raw) {
            $ids[] = $this->positiveInt($raw, 'Task id');
        }

        return array_values(array_unique($ids));
    }

    /**
     * "processed N tasks (completed A, failed B, retried C) in S s, R tasks/s"
     * for a worker loop; for a supervisor (concurrency > 1), whose children
     * print their own lines, "supervised N worker processes (...) in S s".
     */
    protected function countersLine(mixed $counters): string
    {
        $c = is_array($counters) ? $counters : [];
        if (isset($c['children_started'])) {
            return sprintf(
                'supervised %d worker processes (replaced %d, killed for timeout %d, killed for cancel %d, released %d tasks) in %s s',
                (int) $c['children_started'],
                (int) ($c['children_replaced'] ?? 0),
                (int) ($c['killed_for_timeout'] ?? 0),
                (int) ($c['killed_for_cancel'] ?? 0),
                (int) ($c['released'] ?? 0),
                self::number((float) ($c['seconds'] ?? 0))
            );
        }

        return sprintf(
            'processed %d tasks (completed %d, failed %d, retried %d) in %s s, %s tasks/s',
            (int) ($c['processed'] ?? 0),
            (int) ($c['completed'] ?? 0),
            (int) ($c['failed'] ?? 0),
            (int) ($c['retried'] ?? 0),
            self::number((float) ($c['seconds'] ?? 0)),
            self::number((float) ($c['per_second'] ?? 0))
        );
    }

    private static function number(float $value): string
    {
        return rtrim(rtrim(number_format($value, 2, '.', ''), '0'), '.') ?: '0';
    }

    /** The artisan script children are started with. */
    protected function artisanPath(): string
    {
        $path = base_path('artisan');
        if (!is_file($path) && defined('EVO_CORE_PATH') && is_file(EVO_CORE_PATH . 'artisan')) {
            $path = EVO_CORE_PATH . 'artisan';
        }

        return $path;
    }

    protected function isWorkerChild(): bool
    {
        return getenv('STASK_WORKER_CHILD') === '1';
    }
}
