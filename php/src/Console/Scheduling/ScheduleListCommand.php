<?php

declare(strict_types=1);

namespace Seiger\sTask\Console\Scheduling;

use Illuminate\Console\Scheduling\Schedule;
use Illuminate\Console\Scheduling\ScheduleListCommand as IlluminateScheduleListCommand;

/**
 * schedule:list for a core the package brings it to. Laravel 8.46's command
 * (the one Evolution CMS 3.1 vendors) passes `option('timezone', ...)`, which
 * is always null without --timezone, to setTimezone(); 8.83's falls back to
 * config('app.timezone'), which such a core need not have. Either way it
 * crashes, so the missing option is filled in with the host's timezone
 * before Laravel's command runs.
 */
class ScheduleListCommand extends IlluminateScheduleListCommand
{
    public function handle(Schedule $schedule)
    {
        $timezone = $this->option('timezone');
        if (!is_string($timezone) || $timezone === '') {
            $configured = function_exists('config') ? config('app.timezone') : null;
            $this->input->setOption('timezone', is_string($configured) && $configured !== '' ? $configured : date_default_timezone_get());
        }

        return parent::handle($schedule);
    }
}
