<?php

// The slice of Evolution CMS 3.x the package touches, for a plain Laravel host.

namespace EvolutionCMS {
    if (!class_exists(ServiceProvider::class, false)) {
        class ServiceProvider extends \Illuminate\Support\ServiceProvider
        {
            /** Evolution "plugins": every *.php in $dir is included once. */
            public function loadPluginsFrom($dir)
            {
                foreach (glob(rtrim((string) $dir, '/') . '/*.php') ?: [] as $file) {
                    include_once $file;
                }
            }
        }
    }
}

namespace App\Evolution {
    /** What evo() returns here. */
    class Core
    {
        /** hasPermission() also answers true for these (or for all with '*'). */
        public static array $permissions = [];

        public static ?int $userId = null;

        private static ?self $instance = null;

        public static function instance(): self
        {
            return self::$instance ??= new self();
        }

        /** Evolution reads config('cms.settings.'.$name) over the legacy settings. */
        public function getConfig($name = '', $default = null)
        {
            return config('cms.settings.' . $name, $default);
        }

        public function setConfig($name, $value): void
        {
            config(['cms.settings.' . $name => $value]);
        }

        /**
         * As EvolutionCMS\Core::hasPermission(): the session of the context
         * (`mgr` in the manager) holds [permission => 1] since the login.
         */
        public function hasPermission($permission, $context = '')
        {
            $context = $context === '' ? 'mgr' : (string) $context;
            if ((int) ($_SESSION[$context . 'Permissions'][(string) $permission] ?? 0) === 1) {
                return true;
            }
            $env = getenv('EVO_PERMISSIONS');
            $granted = array_merge(self::$permissions, $env ? explode(',', $env) : []);

            return in_array('*', $granted, true) || in_array((string) $permission, $granted, true);
        }

        /**
         * What Evolution's manager login (UserLogin) does with the permission
         * tables: $_SESSION['mgrPermissions'] gets [permission => 1] for each
         * role_permissions row of the user's role.
         */
        public function loginManager(int $userId, int $roleId): void
        {
            $permissions = ['role' => $roleId];
            $keys = \Illuminate\Support\Facades\DB::table('role_permissions')->where('role_id', $roleId)->pluck('permission');
            foreach ($keys as $key) {
                $permissions[(string) $key] = 1;
            }
            $_SESSION['mgrValidated'] = 1;
            $_SESSION['mgrInternalKey'] = $userId;
            $_SESSION['mgrRole'] = $roleId;
            $_SESSION['mgrPermissions'] = $permissions;
            self::$userId = $userId;
        }

        public function getLoginUserID($context = '')
        {
            if (self::$userId !== null) {
                return self::$userId;
            }
            $context = $context === '' ? 'mgr' : (string) $context;
            if (isset($_SESSION[$context . 'InternalKey'])) {
                return (int) $_SESSION[$context . 'InternalKey'];
            }
            $env = getenv('EVO_USER_ID');

            return $env === false || $env === '' ? false : (int) $env;
        }

        /** As EvolutionCMS\Core::invokeEvent(): the listeners' non-null results, or false. */
        public function invokeEvent($name, array $params = [])
        {
            $out = app('events')->dispatch('evolution.' . $name, [$params]);
            $results = [];
            foreach (is_array($out) ? $out : [] as $result) {
                if ($result !== null) {
                    $results[] = $result;
                }
            }

            return $results ?: false;
        }
    }
}

namespace {
    // Evolution keeps the manager's login in PHP's native session, started
    // on every web request before the app runs.
    if (PHP_SAPI !== 'cli' && session_status() === PHP_SESSION_NONE && !headers_sent()) {
        $sessions = __DIR__ . '/../storage/framework/evo-sessions';
        if (!is_dir($sessions)) {
            @mkdir($sessions, 0700, true);
        }
        session_save_path($sessions);
        session_name('evo_mgr');
        session_cache_limiter('');
        session_start();
    }
    if (!function_exists('evo')) {
        function evo()
        {
            return \App\Evolution\Core::instance();
        }
    }
    if (!function_exists('evolutionCMS')) {
        function evolutionCMS()
        {
            return evo();
        }
    }
}
