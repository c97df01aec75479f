<?php

declare(strict_types=1);

namespace Seiger\sTask\Support;

/**
 * Writes the package's messages to the host's log: the container's `log`
 * service (Laravel's and Evolution's logger) when there is one, PHP's
 * error_log otherwise. Never throws: a message about a problem must not
 * become a second problem, and never reaches the page a site serves.
 * (Evolution 3.1 has no report()/logger() helpers, so the package cannot use them.)
 */
final class HostLog
{
    public static function warning(string $message, ?\Throwable $e = null): void
    {
        self::write('warning', $message, $e);
    }

    public static function error(string $message, ?\Throwable $e = null): void
    {
        self::write('error', $message, $e);
    }

    /**
     * One record of the engine (sTask::setLogger()): to the host's logger,
     * on $channel when given and the logger has channels; error_log else.
     */
    public static function record(string $level, string $message, array $context = [], ?string $channel = null): void
    {
        try {
            if (function_exists('app')) {
                $app = app();
                if (is_object($app) && method_exists($app, 'bound') && $app->bound('log')) {
                    $log = $app->make('log');
                    if ($channel !== null && $channel !== '' && method_exists($log, 'channel')) {
                        $log = $log->channel($channel);
                    }
                    $log->log($level, $message, $context);

                    return;
                }
            }
        } catch (\Throwable) {
            // No usable logger: fall through to PHP's own log.
        }
        error_log($message . ($context === [] ? '' : ' ' . json_encode($context, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE)));
    }

    private static function write(string $level, string $message, ?\Throwable $e): void
    {
        $context = $e === null ? [] : ['exception' => $e];
        try {
            if (function_exists('app')) {
                $app = app();
                if (is_object($app) && method_exists($app, 'bound') && $app->bound('log')) {
                    $app->make('log')->{$level}($message, $context);

                    return;
                }
            }
        } catch (\Throwable) {
            // No usable logger: fall through to PHP's own log.
        }
        error_log('sTask ' . $level . ': ' . $message . ($e === null ? '' : ' (' . get_class($e) . ': ' . $e->getMessage() . ')'));
    }
}
