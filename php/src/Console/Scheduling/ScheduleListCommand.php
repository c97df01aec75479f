<?php

declare(strict_types=1);

namespace Seiger\sTask\Console\Scheduling;

use Carbon\Carbon;
use Cron\CronExpression;
use Illuminate\Console\Scheduling\Schedule;
use Illuminate\Console\Scheduling\ScheduleListCommand as IlluminateScheduleListCommand;

/**
 * schedule:list for a core the package brings it to. It builds the table
 * itself instead of running Laravel's: 8.46's command (the one Evolution CMS
 * 3.1 vendors) passes `option('timezone', ...)`, always null without
 * --timezone, and even with one gives setTimezone() a string where the plain
 * DateTime of cron-expression 3 wants a DateTimeZone (checked on a real
 * 3.1.6 core); 8.83's falls back to config('app.timezone'), which such a core
 * need not have. Same columns as Laravel's.
 */
class ScheduleListCommand extends IlluminateScheduleListCommand
{
    public function handle(Schedule $schedule)
    {
        $timezone = $this->option('timezone');
        if (!is_string($timezone) || $timezone === '') {
            $configured = function_exists('config') ? config('app.timezone') : null;
            $timezone = is_string($configured) && $configured !== '' ? $configured : date_default_timezone_get();
        }
        try {
            $zone = new \DateTimeZone($timezone);
        } catch (\Exception) {
            $this->error("Unknown timezone '{$timezone}'.");

            return 1;
        }

        $rows = [];
        foreach ($schedule->events() as $event) {
            $eventZone = $event->timezone ?: $zone;
            $next = (new CronExpression($event->expression))->getNextRunDate(Carbon::now($eventZone));
            $rows[] = [
                (string) ($event->command ?? $event->getSummaryForDisplay()),
                $event->expression,
                (string) $event->description,
                Carbon::instance($next)->setTimezone($zone)->format('Y-m-d H:i:s P'),
            ];
        }
        if ($rows === []) {
            $this->comment('No scheduled commands have been defined.');

            return 0;
        }
        $this->table(['Command', 'Interval', 'Description', 'Next Due'], $rows);

        return 0;
    }
}
